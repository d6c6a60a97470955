using System.Threading.Channels;
using ParallelNet.Jobs.V1;
using ParallelNet.Rpc;

namespace ParallelNet.Jobs.Internal;

/// <summary>parallelnet.v1.JobService on a <see cref="JobManager"/>: authorization, request checks, streaming.</summary>
internal sealed class JobServiceHandlers(JobManager jobs, BearerTokenAuthorizer authorizer)
{
    private const int ChunkSize = 1024 * 1024;

    public ServerServiceDefinition Build() =>
        ServerServiceDefinition.CreateBuilder(JobsReflection.Descriptor.FindTypeByName<Google.Protobuf.Reflection.ServiceDescriptor>("JobService"))
            .AddMethod(JobServiceMethods.SubmitJob, SubmitJob)
            .AddMethod(JobServiceMethods.GetJob, (request, context) => Read(context, () => jobs.Get(request.Id)))
            .AddMethod(JobServiceMethods.ListJobs, ListJobs)
            .AddMethod(JobServiceMethods.CancelJob, (request, context) =>
            {
                authorizer.Check(context, changesJobs: true);
                return Task.FromResult(jobs.Cancel(request.Id));
            })
            .AddMethod(JobServiceMethods.WatchJob, WatchJob)
            .AddMethod(JobServiceMethods.DownloadCheckpoint, DownloadCheckpoint)
            .Build();

    private Task<Job> SubmitJob(SubmitJobRequest request, ServerCallContext context)
    {
        authorizer.Check(context, changesJobs: true);
        if (request.Spec is null) throw new RpcException(new Status(StatusCode.InvalidArgument, "invalid job spec: spec: missing."));
        return Task.FromResult(jobs.Submit(TrainingJobSpec.FromProto(request.Spec)));
    }

    private Task<ListJobsResponse> ListJobs(ListJobsRequest request, ServerCallContext context)
    {
        authorizer.Check(context, changesJobs: false);
        foreach (var state in request.States)
            if (!Enum.IsDefined(state) || state == JobState.Unspecified)
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"states: {(int)state} is not a job state."));
        var (page, next) = jobs.List(request.States.Distinct().ToList(), request.PageSize, request.PageToken);
        var response = new ListJobsResponse { NextPageToken = next };
        response.Jobs.AddRange(page);
        return Task.FromResult(response);
    }

    private async Task WatchJob(WatchJobRequest request, IServerStreamWriter<JobEvent> stream, ServerCallContext context)
    {
        authorizer.Check(context, changesJobs: false);
        using var watch = jobs.Watch(request.Id);
        try
        {
            await foreach (var e in watch.Events.ReadAllAsync(context.CancellationToken).ConfigureAwait(false))
                await stream.WriteAsync(e, context.CancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "The job server is stopping; the job resumes when it is back. Watch again then."));
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "The job server is stopping; the job resumes when it is back. Watch again then."));
        }
    }

    private async Task DownloadCheckpoint(DownloadCheckpointRequest request, IServerStreamWriter<CheckpointChunk> stream, ServerCallContext context)
    {
        authorizer.Check(context, changesJobs: false);
        var path = jobs.CheckpointPath(request.Id);
        // Checkpoints are replaced by rename, so this handle keeps reading one whole version even if a newer one lands.
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, ChunkSize, useAsync: true);
        var step = jobs.Get(request.Id).Step;
        var buffer = new byte[ChunkSize];
        long offset = 0;
        var total = file.Length;
        while (true)
        {
            var read = await file.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, context.CancellationToken).ConfigureAwait(false);
            if (read == 0 && offset > 0) break;
            await stream.WriteAsync(new CheckpointChunk { Offset = offset, TotalSize = total, Step = step, Data = Google.Protobuf.ByteString.CopyFrom(buffer, 0, read) }, context.CancellationToken).ConfigureAwait(false);
            offset += read;
            if (read < buffer.Length) break;
        }
    }

    private Task<T> Read<T>(ServerCallContext context, Func<T> action)
    {
        authorizer.Check(context, changesJobs: false);
        return Task.FromResult(action());
    }
}
