#!/usr/bin/python3
"""The python grpcio side of ParallelNet's gRPC interop tests (Debian python3-grpcio 1.51).

  grpc_peer.py client --stubs DIR --port PORT --cancel-key K --vanish-key V
      calls parallelnet.test.v1.TestService, grpc.health.v1.Health and reflection on our server
      and prints one JSON line per scenario: {"name": ..., "ok": true/false, "detail": ...}
  grpc_peer.py server --stubs DIR
      serves TestService with grpcio, prints "PORT <n>", reports cancelled handlers as
      "CANCELLED <text>" lines, and stops when stdin closes.

DIR holds the modules made by Debian's /usr/bin/protoc --python_out from the test protos.
"""
import argparse
import importlib.util
import json
import os
import queue
import sys
import threading
import time
from concurrent import futures

import grpc

LIMIT = 32 * 1024 * 1024
CHANNEL_OPTIONS = [("grpc.max_receive_message_length", LIMIT), ("grpc.max_send_message_length", LIMIT)]
SERVICE = "parallelnet.test.v1.TestService"
NON_ASCII = "job 42 n'existe pas — ✗ 100% sûr"


def load_module(stubs_dir, relative_path, name):
    # Loaded by path: the generated grpc/health/... folders would otherwise collide with the grpc package itself.
    spec = importlib.util.spec_from_file_location(name, os.path.join(stubs_dir, relative_path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_stubs(stubs_dir):
    global pb, health_pb, reflection_pb
    pb = load_module(stubs_dir, "parallelnet/test/v1/test_service_pb2.py", "pn_test_service_pb2")
    health_pb = load_module(stubs_dir, "grpc/health/v1/health_pb2.py", "pn_health_pb2")
    reflection_pb = load_module(stubs_dir, "grpc/reflection/v1/reflection_pb2.py", "pn_reflection_pb2")


# ---------------------------------------------------------------- client


def run_client(port, cancel_key, vanish_key):
    channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=CHANNEL_OPTIONS)
    grpc.channel_ready_future(channel).result(timeout=30)

    def method(kind, name, req=None, resp=None, service=SERVICE):
        req = req or pb.EchoRequest
        resp = resp or pb.EchoResponse
        return getattr(channel, kind)(f"/{service}/{name}", request_serializer=req.SerializeToString, response_deserializer=resp.FromString)

    echo = method("unary_unary", "Echo")
    sleep = method("unary_unary", "Sleep")
    results = []

    def scenario(name):
        def wrap(fn):
            try:
                detail = fn()
                results.append({"name": name, "ok": True, "detail": detail or ""})
            except Exception as e:  # noqa: BLE001 - every failure is reported, none is fatal
                results.append({"name": name, "ok": False, "detail": f"{type(e).__name__}: {e}"})
            print(json.dumps(results[-1]), flush=True)
        return wrap

    def expect(condition, message):
        if not condition:
            raise AssertionError(message)

    def expect_error(call, code, details=None):
        try:
            call()
        except grpc.RpcError as e:
            expect(e.code() == code, f"expected {code}, got {e.code()} ({e.details()!r})")
            if details is not None:
                expect(e.details() == details, f"expected details {details!r}, got {e.details()!r}")
            return e
        raise AssertionError(f"expected {code}, the call succeeded")

    @scenario("unary_metadata")
    def _():
        binary = bytes([0, 1, 2, 250, 255])
        response, call = echo.with_call(pb.EchoRequest(text="héllo", payload=binary), timeout=30,
                                        metadata=[("x-echo", "hello"), ("x-echo-bin", binary)])
        expect(response.text == "héllo" and response.payload == binary, f"bad echo {response}")
        initial = dict(call.initial_metadata())
        trailing = dict(call.trailing_metadata())
        expect(initial.get("x-echo") == "hello", f"initial metadata {initial}")
        expect(initial.get("x-echo-bin") == binary, f"initial binary metadata {initial}")
        expect(trailing.get("x-echo-bin") == binary, f"trailing metadata {trailing}")
        expect(call.code() == grpc.StatusCode.OK, str(call.code()))

    @scenario("server_stream")
    def _():
        indices = [r.index for r in method("unary_stream", "ServerStream")(pb.EchoRequest(count=50, response_size=1000), timeout=30)]
        expect(indices == list(range(50)), f"indices {indices}")

    @scenario("client_stream")
    def _():
        requests = (pb.EchoRequest(text=str(i), payload=bytes(i)) for i in range(20))
        response = method("stream_unary", "ClientStream")(requests, timeout=30)
        expect(response.index == 20 and response.total_bytes == sum(range(20)), str(response))
        expect(response.text == ",".join(str(i) for i in range(20)), response.text)

    @scenario("duplex")
    def _():
        outgoing = queue.Queue()

        def requests():
            while True:
                item = outgoing.get()
                if item is None:
                    return
                yield item

        responses = method("stream_stream", "Duplex")(requests(), timeout=30)
        for i in range(10):
            outgoing.put(pb.EchoRequest(text=f"ping{i}"))
            reply = next(responses)
            expect(reply.text == f"ping{i}" and reply.index == i, str(reply))
        outgoing.put(None)
        expect(list(responses) == [], "extra responses")

    @scenario("deadline")
    def _():
        started = time.monotonic()
        expect_error(lambda: sleep(pb.EchoRequest(text="py-deadline", delay_ms=60000), timeout=1.5), grpc.StatusCode.DEADLINE_EXCEEDED)
        expect(time.monotonic() - started < 20, "the deadline took far too long")

    @scenario("cancel")
    def _():
        future = sleep.future(pb.EchoRequest(text=cancel_key, delay_ms=60000), timeout=60)
        # Wait until the server has surely received the call (its headers echo nothing, so poll the
        # server with a cheap call that queues behind it on the same connection), then cancel;
        # the C# side checks that the handler saw the cancellation.
        echo(pb.EchoRequest(text="sync"), timeout=30)
        time.sleep(0.5)
        future.cancel()
        try:
            future.result()
            raise AssertionError("a cancelled call returned a result")
        except grpc.FutureCancelledError:
            pass
        expect(future.cancelled(), "future not cancelled")

    @scenario("error_status_non_ascii")
    def _():
        e = expect_error(lambda: method("unary_unary", "Fail")(pb.EchoRequest(status_code=5, status_message=NON_ASCII), timeout=30),
                         grpc.StatusCode.NOT_FOUND, NON_ASCII)
        trailing = dict(e.trailing_metadata())
        expect(trailing.get("x-fail-bin") == bytes([0, 1, 2, 255]), f"trailers {trailing}")

    @scenario("handler_exception")
    def _():
        e = expect_error(lambda: method("unary_unary", "Throw")(pb.EchoRequest(), timeout=30), grpc.StatusCode.UNKNOWN)
        expect("secret" not in e.details() and "hunter2" not in e.details(), f"leaked: {e.details()}")

    @scenario("unimplemented")
    def _():
        expect_error(lambda: method("unary_unary", "NoSuchMethod")(pb.EchoRequest(), timeout=30), grpc.StatusCode.UNIMPLEMENTED)

    @scenario("large_16mib")
    def _():
        payload = bytes(range(256)) * (16 * 4096)
        response = echo(pb.EchoRequest(payload=payload), timeout=60)
        expect(response.payload == payload, "16 MiB payload corrupted")
        replies = list(method("unary_stream", "ServerStream")(pb.EchoRequest(count=2, response_size=16 * 1024 * 1024), timeout=60))
        expect([len(r.payload) for r in replies] == [16 * 1024 * 1024] * 2, "stream sizes")

    @scenario("oversize")
    def _():
        expect_error(lambda: echo(pb.EchoRequest(payload=bytes(LIMIT + 1)), timeout=60), grpc.StatusCode.RESOURCE_EXHAUSTED)
        expect(echo(pb.EchoRequest(text="alive"), timeout=30).text == "alive", "server stopped serving")

    @scenario("vanish_mid_stream")
    def _():
        stream = method("unary_stream", "ServerStream")(pb.EchoRequest(text=vanish_key, count=1000000, response_size=10000), timeout=60)
        next(stream)
        stream.cancel()
        expect(echo(pb.EchoRequest(text="alive"), timeout=30).text == "alive", "server stopped serving")

    @scenario("health")
    def _():
        check = method("unary_unary", "Check", health_pb.HealthCheckRequest, health_pb.HealthCheckResponse, "grpc.health.v1.Health")
        expect(check(health_pb.HealthCheckRequest(), timeout=30).status == health_pb.HealthCheckResponse.SERVING, "server not serving")
        expect(check(health_pb.HealthCheckRequest(service=SERVICE), timeout=30).status == health_pb.HealthCheckResponse.SERVING, "service not serving")
        expect_error(lambda: check(health_pb.HealthCheckRequest(service="nope"), timeout=30), grpc.StatusCode.NOT_FOUND)
        watch = method("unary_stream", "Watch", health_pb.HealthCheckRequest, health_pb.HealthCheckResponse, "grpc.health.v1.Health")
        stream = watch(health_pb.HealthCheckRequest(service=SERVICE), timeout=30)
        expect(next(stream).status == health_pb.HealthCheckResponse.SERVING, "watch first status")
        stream.cancel()

    @scenario("reflection")
    def _():
        info = method("stream_stream", "ServerReflectionInfo", reflection_pb.ServerReflectionRequest, reflection_pb.ServerReflectionResponse,
                      "grpc.reflection.v1.ServerReflection")
        replies = list(info(iter([reflection_pb.ServerReflectionRequest(list_services=""),
                                  reflection_pb.ServerReflectionRequest(file_containing_symbol=SERVICE)]), timeout=30))
        names = [s.name for s in replies[0].list_services_response.service]
        expect(SERVICE in names and "grpc.health.v1.Health" in names, f"services {names}")
        from google.protobuf import descriptor_pb2
        file = descriptor_pb2.FileDescriptorProto.FromString(replies[1].file_descriptor_response.file_descriptor_proto[0])
        expect(file.name == "parallelnet/test/v1/test_service.proto", file.name)
        expect([m.name for m in file.service[0].method][:2] == ["Echo", "ServerStream"], "methods")

    channel.close()
    return 0 if all(r["ok"] for r in results) else 1


# ---------------------------------------------------------------- server


class TestService:
    def __init__(self):
        self.lock = threading.Lock()

    def Echo(self, request, context):
        metadata = dict(context.invocation_metadata())
        echoed = [(k, metadata[k]) for k in ("x-echo", "x-echo-bin") if k in metadata]
        if echoed:
            context.send_initial_metadata(echoed)
            context.set_trailing_metadata(echoed)
        payload = bytes(request.response_size) if request.response_size > 0 else request.payload
        return pb.EchoResponse(text=request.text, payload=payload, total_bytes=len(request.payload))

    def ServerStream(self, request, context):
        payload = bytes(request.response_size)
        for i in range(request.count):
            yield pb.EchoResponse(text=request.text, index=i, payload=payload)

    def ClientStream(self, requests, context):
        texts, total = [], 0
        for r in requests:
            texts.append(r.text)
            total += len(r.payload)
        return pb.EchoResponse(text=",".join(texts), index=len(texts), total_bytes=total)

    def Duplex(self, requests, context):
        for i, r in enumerate(requests):
            yield pb.EchoResponse(text=r.text, payload=r.payload, index=i)

    def Sleep(self, request, context):
        with self.lock:
            print(f"STARTED {request.text}", flush=True)
        deadline = time.monotonic() + request.delay_ms / 1000.0
        while time.monotonic() < deadline:
            if not context.is_active():
                # The client cancelled or its deadline passed; the C# tests wait for this line.
                with self.lock:
                    print(f"CANCELLED {request.text}", flush=True)
                return pb.EchoResponse()
            time.sleep(0.01)
        return pb.EchoResponse(text=request.text)

    def Fail(self, request, context):
        context.set_trailing_metadata([("x-fail-bin", bytes([0, 1, 2, 255]))])
        context.abort(grpc.StatusCode(next(c for c in grpc.StatusCode if c.value[0] == request.status_code)), request.status_message)

    def Throw(self, request, context):
        raise RuntimeError("secret internals")


def run_server():
    service = TestService()

    def handler(kind, fn):
        factory = getattr(grpc, f"{kind}_rpc_method_handler")
        return factory(fn, request_deserializer=pb.EchoRequest.FromString, response_serializer=pb.EchoResponse.SerializeToString)

    handlers = {
        "Echo": handler("unary_unary", service.Echo),
        "ServerStream": handler("unary_stream", service.ServerStream),
        "ClientStream": handler("stream_unary", service.ClientStream),
        "Duplex": handler("stream_stream", service.Duplex),
        "Sleep": handler("unary_unary", service.Sleep),
        "Fail": handler("unary_unary", service.Fail),
        "Throw": handler("unary_unary", service.Throw),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), options=CHANNEL_OPTIONS)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(f"PORT {port}", flush=True)
    sys.stdin.read()
    server.stop(grace=1).wait()
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["client", "server"])
    parser.add_argument("--stubs", required=True)
    parser.add_argument("--port", type=int)
    parser.add_argument("--cancel-key", default="py-cancel")
    parser.add_argument("--vanish-key", default="py-vanish")
    args = parser.parse_args()
    load_stubs(args.stubs)
    if args.mode == "client":
        return run_client(args.port, args.cancel_key, args.vanish_key)
    return run_server()


if __name__ == "__main__":
    sys.exit(main())
