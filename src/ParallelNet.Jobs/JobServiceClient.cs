using System.Runtime.CompilerServices;
using ParallelNet.Jobs.V1;
using ParallelNet.Rpc;

namespace ParallelNet.Jobs;

/// <summary>A client of parallelnet.v1.JobService; failures surface as <see cref="RpcException"/> with the server's status.</summary>
public sealed class JobServiceClient : IDisposable
{
    private readonly GrpcClient _client;
    private readonly string? _token;

    /// <param name="address">host:port (h2c) or http(s)://host:port.</param>
    /// <param name="token">The bearer token, or null when the server runs without authentication.</param>
    public JobServiceClient(string address, string? token = null, GrpcClientOptions? options = null)
    {
        _client = GrpcClient.ForAddress(address, options);
        _token = string.IsNullOrWhiteSpace(token) ? null : token.Trim();
    }

    public Uri Address => _client.Address;

    public async Task<Job> SubmitAsync(TrainingJobSpec spec, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return await Unary(_client.AsyncUnaryCall(JobServiceMethods.SubmitJob, new SubmitJobRequest { Spec = spec.ToProto() }, Options(cancellation))).ConfigureAwait(false);
    }

    public async Task<Job> GetAsync(string id, CancellationToken cancellation = default) =>
        await Unary(_client.AsyncUnaryCall(JobServiceMethods.GetJob, new GetJobRequest { Id = id }, Options(cancellation))).ConfigureAwait(false);

    public async Task<Job> CancelAsync(string id, CancellationToken cancellation = default) =>
        await Unary(_client.AsyncUnaryCall(JobServiceMethods.CancelJob, new CancelJobRequest { Id = id }, Options(cancellation))).ConfigureAwait(false);

    public async Task<ListJobsResponse> ListAsync(IEnumerable<JobState>? states = null, int pageSize = 0, string? pageToken = null, CancellationToken cancellation = default)
    {
        var request = new ListJobsRequest { PageSize = pageSize, PageToken = pageToken ?? "" };
        if (states is not null) request.States.AddRange(states);
        return await Unary(_client.AsyncUnaryCall(JobServiceMethods.ListJobs, request, Options(cancellation))).ConfigureAwait(false);
    }

    /// <summary>The job's events: its state first, then progress, ending with the result once the job ends.</summary>
    public async IAsyncEnumerable<JobEvent> WatchAsync(string id, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        using var call = _client.AsyncServerStreamingCall(JobServiceMethods.WatchJob, new WatchJobRequest { Id = id }, Options(cancellation));
        while (await call.ResponseStream.MoveNext(cancellation).ConfigureAwait(false))
            yield return call.ResponseStream.Current;
    }

    /// <summary>Writes the job's latest checkpoint to <paramref name="destination"/>; returns the step it holds.</summary>
    public async Task<long> DownloadCheckpointAsync(string id, Stream destination, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using var call = _client.AsyncServerStreamingCall(JobServiceMethods.DownloadCheckpoint, new DownloadCheckpointRequest { Id = id }, Options(cancellation));
        long written = 0, total = -1, step = 0;
        while (await call.ResponseStream.MoveNext(cancellation).ConfigureAwait(false))
        {
            var chunk = call.ResponseStream.Current;
            if (chunk.Offset != written) throw new RpcException(new Status(StatusCode.DataLoss, $"The checkpoint stream skipped from byte {written} to {chunk.Offset}."));
            total = chunk.TotalSize;
            step = chunk.Step;
            chunk.Data.WriteTo(destination);
            written += chunk.Data.Length;
        }
        if (written != total) throw new RpcException(new Status(StatusCode.DataLoss, $"The checkpoint stream ended after {written} of {total} bytes."));
        return step;
    }

    private static async Task<T> Unary<T>(AsyncUnaryCall<T> call)
    {
        using (call) return await call.ResponseAsync.ConfigureAwait(false);
    }

    private CallOptions Options(CancellationToken cancellation) =>
        new(_token is null ? null : new Metadata().Add("authorization", "Bearer " + _token), CancellationToken: cancellation);

    public void Dispose() => _client.Dispose();
}
