using System.Text.Json;

namespace ParallelNet.Rpc.Tests.Interop;

/// <summary>A python grpcio client against our server: every scenario of grpc_peer.py must pass.</summary>
public abstract class PythonClientTests(ServerFixture fixture)
{
    private static readonly string[] Scenarios =
    [
        "unary_metadata", "server_stream", "client_stream", "duplex", "deadline", "cancel", "error_status_non_ascii",
        "handler_exception", "unimplemented", "large_16mib", "oversize", "vanish_mid_stream", "health", "reflection",
    ];

    [Fact]
    public async Task Grpcio_client_passes_every_scenario_against_our_server()
    {
        var stubs = PythonPeer.GenerateStubs();
        try
        {
            var cancelKey = "py-cancel-" + Guid.NewGuid().ToString("N");
            var vanishKey = "py-vanish-" + Guid.NewGuid().ToString("N");
            var (exit, output) = await Task.Run(() => PythonPeer.Run(PythonPeer.Python,
                [PythonPeer.Script, "client", "--stubs", stubs, "--port", fixture.Server.Port.ToString(), "--cancel-key", cancelKey, "--vanish-key", vanishKey],
                TimeSpan.FromSeconds(180)));

            var results = output.Split('\n').Where(line => line.StartsWith('{'))
                .Select(line => JsonDocument.Parse(line).RootElement)
                .ToDictionary(e => e.GetProperty("name").GetString()!, e => (Ok: e.GetProperty("ok").GetBoolean(), Detail: e.GetProperty("detail").GetString()));
            var failures = Scenarios.Where(s => !results.TryGetValue(s, out var r) || !r.Ok)
                .Select(s => $"{s}: {(results.TryGetValue(s, out var r) ? r.Detail : "did not run")}").ToList();
            Assert.True(failures.Count == 0, "grpcio scenarios failed:\n" + string.Join("\n", failures) + "\n--- output ---\n" + output);
            Assert.Equal(0, exit);

            // The server side of the cancellation scenarios: our handlers saw their calls end. The streaming one
            // certainly started (the client read a message); the Sleep calls started unless the machine was too loaded.
            await fixture.Service.WhenCancelled(vanishKey).WaitAsync(Waits.Long);
            if (fixture.Service.WhenStarted(cancelKey).IsCompleted) await fixture.Service.WhenCancelled(cancelKey).WaitAsync(Waits.Long);
            if (fixture.Service.WhenStarted("py-deadline").IsCompleted) await fixture.Service.WhenCancelled("py-deadline").WaitAsync(Waits.Long);
        }
        finally
        {
            Directory.Delete(stubs, recursive: true);
        }
    }
}

public sealed class PythonClientTestsOnKestrel(ServerFixture fixture) : PythonClientTests(fixture), IClassFixture<ServerFixture>;

public sealed class PythonClientTestsOnOwnHttp2(OwnHttp2ServerFixture fixture) : PythonClientTests(fixture), IClassFixture<OwnHttp2ServerFixture>;
