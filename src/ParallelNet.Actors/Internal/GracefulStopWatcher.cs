namespace ParallelNet.Actors.Internal;

/// <summary>Watches one actor for GracefulStop: true when its death notice arrives, false when the timeout fires first.</summary>
internal sealed class GracefulStopWatcher : IActorRef
{
    private readonly TaskCompletionSource<bool> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly IActorRef target;
    private readonly ITimer? timeoutTimer;

    public GracefulStopWatcher(IActorRef target, TimeSpan timeout)
    {
        this.target = target;
        System = target.System;
        Path = System.NewTemporaryPath();
        if (timeout != Timeout.InfiniteTimeSpan)
            timeoutTimer = System.TimeProvider.CreateTimer(static state => ((GracefulStopWatcher)state!).GiveUp(), this, timeout, Timeout.InfiniteTimeSpan);
    }

    public Task<bool> Task => completion.Task;
    public ActorPath Path { get; }
    public ActorSystem System { get; }

    public void Tell(object message, IActorRef? sender) => System.PublishDeadLetter(message, sender, this);

    public void SendSystemMessage(SystemMessage message)
    {
        if (message is DeathWatchNotification notification && notification.Actor.Equals(target) && completion.TrySetResult(true))
            timeoutTimer?.Dispose();
    }

    private void GiveUp()
    {
        if (completion.TrySetResult(false)) target.SendSystemMessage(new Unwatch(target, this));
        timeoutTimer?.Dispose();
    }
}
