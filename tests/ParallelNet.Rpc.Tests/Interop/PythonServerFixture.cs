using System.Collections.Concurrent;
using System.Diagnostics;

namespace ParallelNet.Rpc.Tests.Interop;

/// <summary>A grpcio server running TestService in a python child process, and our client for it.</summary>
public sealed class PythonServerFixture : IAsyncLifetime
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _cancelled = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _started = new();
    private readonly TaskCompletionSource<int> _port = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly System.Text.StringBuilder _log = new();
    private Process? _process;
    private string? _stubs;

    public GrpcClient Client { get; private set; } = null!;

    public Uri Address { get; private set; } = null!;

    /// <summary>Completes when the python handler serving a Sleep with this text saw its call end early.</summary>
    public Task WhenCancelled(string text) => Signal(text).Task;

    /// <summary>Completes when the python Sleep handler for this text has started.</summary>
    public Task WhenStarted(string text) => Started(text).Task;

    private TaskCompletionSource Signal(string text) => _cancelled.GetOrAdd(text, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    private TaskCompletionSource Started(string text) => _started.GetOrAdd(text, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public async Task InitializeAsync()
    {
        _stubs = PythonPeer.GenerateStubs();
        _process = PythonPeer.Start("server", "--stubs", _stubs);
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        _process.EnableRaisingEvents = true;
        _process.Exited += (_, _) => _port.TrySetException(new InvalidOperationException("The python grpcio server exited early:\n" + Log()));
        var port = await _port.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Address = new Uri($"http://127.0.0.1:{port}");
        Client = new GrpcClient(Address, new GrpcClientOptions { MaxReceiveMessageSize = ServerFixture.LargeLimit });
    }

    public string Log()
    {
        lock (_log) return _log.ToString();
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_log) _log.AppendLine(line);
        if (line.StartsWith("PORT ", StringComparison.Ordinal)) _port.TrySetResult(int.Parse(line[5..], System.Globalization.CultureInfo.InvariantCulture));
        else if (line.StartsWith("CANCELLED ", StringComparison.Ordinal)) Signal(line[10..]).TrySetResult();
        else if (line.StartsWith("STARTED ", StringComparison.Ordinal)) Started(line[8..]).TrySetResult();
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (_process is not null)
        {
            // Closing stdin asks the server to stop; kill it if it does not.
            try { _process.StandardInput.Close(); } catch (IOException) { }
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try { await _process.WaitForExitAsync(timeout.Token); }
            catch (OperationCanceledException) { _process.Kill(entireProcessTree: true); }
            _process.Dispose();
        }
        if (_stubs is not null) Directory.Delete(_stubs, recursive: true);
    }
}
