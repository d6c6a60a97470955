#!/usr/bin/python3
"""grpcio's side of `parallelnet bench grpc` (Debian python3-grpcio): the same Bench calls, python to python.

  grpcio_peer.py server --stubs DIR            serve parallelnet.bench.v1.Bench, print "PORT <n>", stop at stdin EOF
  grpcio_peer.py client --stubs DIR --port P --sizes 1,16,64 --total-mib 512 --unary-calls 8 --server-pid PID
      print one JSON line per measurement: {"call": ..., "size_mib": ..., "value": ..., "unit": ..., "cpu_s_per_gb": ...}
      (cpu_s_per_gb: CPU seconds of client and server together per GB of payload, for the streams)

DIR holds bench_pb2.py made by Debian's /usr/bin/protoc --python_out.
"""
import argparse
import importlib.util
import json
import os
import sys
import time
from concurrent import futures

import grpc

LIMIT = 256 * 1024 * 1024
OPTIONS = [("grpc.max_receive_message_length", LIMIT), ("grpc.max_send_message_length", LIMIT)]
SERVICE = "parallelnet.bench.v1.Bench"


def load_stubs(stubs_dir):
    spec = importlib.util.spec_from_file_location("pn_bench_pb2", os.path.join(stubs_dir, "parallelnet/bench/v1/bench_pb2.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def serve(pb):
    def unary(request, context):
        return pb.Ack(bytes=len(request.data))

    def download(request, context):
        payload = pb.Payload(data=bytes(request.size))
        for _ in range(request.count):
            yield payload

    def upload(requests, context):
        return pb.Ack(bytes=sum(len(r.data) for r in requests))

    handlers = {
        "Unary": grpc.unary_unary_rpc_method_handler(unary, pb.Payload.FromString, pb.Ack.SerializeToString),
        "Download": grpc.unary_stream_rpc_method_handler(download, pb.DownloadRequest.FromString, pb.Payload.SerializeToString),
        "Upload": grpc.stream_unary_rpc_method_handler(upload, pb.Payload.FromString, pb.Ack.SerializeToString),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=OPTIONS)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(f"PORT {port}", flush=True)
    sys.stdin.read()
    server.stop(grace=1).wait()


def process_cpu_seconds(pid):
    """utime + stime of another process, from /proc (Linux)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def client(pb, port, sizes, total_mib, unary_calls, server_pid):
    channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=OPTIONS)
    grpc.channel_ready_future(channel).result(timeout=30)
    unary = channel.unary_unary(f"/{SERVICE}/Unary", pb.Payload.SerializeToString, pb.Ack.FromString)
    download = channel.unary_stream(f"/{SERVICE}/Download", pb.DownloadRequest.SerializeToString, pb.Payload.FromString)
    upload = channel.stream_unary(f"/{SERVICE}/Upload", pb.Payload.SerializeToString, pb.Ack.FromString)

    def emit(call, size_mib, value, unit, cpu_per_gb=None):
        print(json.dumps({"call": call, "size_mib": size_mib, "value": value, "unit": unit, "cpu_s_per_gb": cpu_per_gb}), flush=True)

    def cpu():
        # Both processes: the load-independent cost of moving the bytes.
        return time.process_time() + (process_cpu_seconds(server_pid) if server_pid else 0.0)

    for size_mib in sizes:
        size = size_mib * 1024 * 1024
        payload = pb.Payload(data=bytes(size))
        count = max(2, total_mib // size_mib)

        unary(payload, timeout=600)
        times = []
        for _ in range(unary_calls):
            start = time.perf_counter()
            unary(payload, timeout=600)
            times.append(time.perf_counter() - start)
        times.sort()
        emit("unary", size_mib, times[len(times) // 2] * 1000.0, "ms")

        for _ in download(pb.DownloadRequest(size=size, count=1), timeout=600):
            pass
        start, cpu_start = time.perf_counter(), cpu()
        received = sum(len(p.data) for p in download(pb.DownloadRequest(size=size, count=count), timeout=600))
        emit("server_stream", size_mib, received / (time.perf_counter() - start) / 1e6, "MB/s", (cpu() - cpu_start) / (received / 1e9))

        upload(iter([payload]), timeout=600)
        start, cpu_start = time.perf_counter(), cpu()
        ack = upload(iter([payload] * count), timeout=600)
        emit("client_stream", size_mib, ack.bytes / (time.perf_counter() - start) / 1e6, "MB/s", (cpu() - cpu_start) / (ack.bytes / 1e9))
    channel.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["client", "server"])
    parser.add_argument("--stubs", required=True)
    parser.add_argument("--port", type=int)
    parser.add_argument("--sizes", default="1,16,64")
    parser.add_argument("--total-mib", type=int, default=512)
    parser.add_argument("--unary-calls", type=int, default=8)
    parser.add_argument("--server-pid", type=int, default=0)
    args = parser.parse_args()
    pb = load_stubs(args.stubs)
    if args.mode == "server":
        serve(pb)
    else:
        client(pb, args.port, [int(s) for s in args.sizes.split(",")], args.total_mib, args.unary_calls, args.server_pid)


if __name__ == "__main__":
    main()
