namespace ParallelNet.Training.Actors;

/// <summary>Command: run the job to its end. The coordinator replies <see cref="JobFinished"/>, or a Status.Failure whose cause says what went wrong.</summary>
public sealed record StartJob;

public sealed record JobFinished(TrainingSummary Summary);

/// <summary>Command: stop after the steps in flight (the current one and, at most, one issued ahead); replied with <see cref="JobPaused"/> once no step runs.</summary>
public sealed record PauseJob;

public sealed record JobPaused(long Step);

/// <summary>Command: continue a paused job; replied with <see cref="JobResumed"/>.</summary>
public sealed record ResumeJob;

public sealed record JobResumed(long Step);

/// <summary>Command: finish the steps in flight, write the final checkpoint if one is configured, and end the job as cancelled.</summary>
public sealed record CancelJob;
