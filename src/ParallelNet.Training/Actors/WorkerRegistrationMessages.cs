using ParallelNet.Actors;

namespace ParallelNet.Training.Actors;

// Messages of workers that join a job at runtime (cluster nodes) instead of being started by the coordinator.

/// <summary>Asks a coordinator which job it runs; replied with <see cref="JobContext"/>, or <see cref="NoJobRunning"/> once the job has ended.</summary>
public sealed record RequestJobContext;

/// <summary>
/// What a worker needs to join job <paramref name="JobId"/>: the options, the data as the job names it
/// (<paramref name="DataSource"/>, loaded by the worker itself), and where to send registrations and gradients.
/// </summary>
public sealed record JobContext(string JobId, TrainingOptions Options, string DataSource, IActorRef Coordinator, IActorRef ParameterServer);

public sealed record NoJobRunning(string Reason);

/// <summary>Command: add <paramref name="Worker"/> (already subscribed to the parameter server) to the job; it gets blocks from the next planned step on.</summary>
public sealed record RegisterWorker(string JobId, IActorRef Worker);

public sealed record WorkerRegistered(string JobId, int Index);

public sealed record WorkerRefused(string JobId, string Reason);
