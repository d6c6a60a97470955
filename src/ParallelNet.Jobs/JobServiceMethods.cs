using ParallelNet.Jobs.V1;
using ParallelNet.Rpc;

namespace ParallelNet.Jobs;

/// <summary>The methods of parallelnet.v1.JobService (jobs.proto), for servers and clients alike.</summary>
public static class JobServiceMethods
{
    public const string ServiceName = "parallelnet.v1.JobService";

    public static readonly Method<SubmitJobRequest, Job> SubmitJob = Method.Create<SubmitJobRequest, Job>(MethodType.Unary, ServiceName, "SubmitJob");
    public static readonly Method<GetJobRequest, Job> GetJob = Method.Create<GetJobRequest, Job>(MethodType.Unary, ServiceName, "GetJob");
    public static readonly Method<ListJobsRequest, ListJobsResponse> ListJobs = Method.Create<ListJobsRequest, ListJobsResponse>(MethodType.Unary, ServiceName, "ListJobs");
    public static readonly Method<CancelJobRequest, Job> CancelJob = Method.Create<CancelJobRequest, Job>(MethodType.Unary, ServiceName, "CancelJob");
    public static readonly Method<WatchJobRequest, JobEvent> WatchJob = Method.Create<WatchJobRequest, JobEvent>(MethodType.ServerStreaming, ServiceName, "WatchJob");
    public static readonly Method<DownloadCheckpointRequest, CheckpointChunk> DownloadCheckpoint =
        Method.Create<DownloadCheckpointRequest, CheckpointChunk>(MethodType.ServerStreaming, ServiceName, "DownloadCheckpoint");
}
