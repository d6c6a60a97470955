using System.Threading.Channels;

namespace ParallelNet.Actors.Tests.Support;

/// <summary>
/// A reference that records what it is told (and death notices, as <see cref="Terminated"/>) so a
/// test can await it. Waits are generous: they only bound a broken test, they never pace a good one.
/// </summary>
internal sealed class TestProbe : IActorRef
{
    public static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(20);
    private readonly Channel<(object Message, IActorRef? Sender)> received = Channel.CreateUnbounded<(object, IActorRef?)>();

    public TestProbe(ActorSystem system, string name = "probe")
    {
        System = system;
        Path = ActorPath.Root(system.Address) / "probes" / name;
    }

    public ActorPath Path { get; }
    public ActorSystem System { get; }
    public IActorRef? LastSender { get; private set; }

    public void Tell(object message, IActorRef? sender) => received.Writer.TryWrite((message, sender));

    public void SendSystemMessage(SystemMessage message)
    {
        if (message is DeathWatchNotification notification) received.Writer.TryWrite((new Terminated(notification.Actor), null));
    }

    /// <summary>Makes this probe a watcher of <paramref name="target"/>, the way a remote watcher would.</summary>
    public void Watch(IActorRef target) => target.SendSystemMessage(new Watch(target, this));

    public async Task<object> ReceiveAsync(TimeSpan? wait = null)
    {
        using var timeout = new CancellationTokenSource(wait ?? DefaultWait);
        try
        {
            (object message, IActorRef? sender) = await received.Reader.ReadAsync(timeout.Token);
            LastSender = sender;
            return message;
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"Probe {Path.Name} received nothing within {wait ?? DefaultWait}.");
        }
    }

    public async Task<T> ExpectMsgAsync<T>(TimeSpan? wait = null)
    {
        object message = await ReceiveAsync(wait);
        return message is T typed ? typed : throw new InvalidOperationException($"Probe {Path.Name} expected a {typeof(T).Name} but received {message.GetType().Name}: {message}.");
    }

    public async Task<T> ExpectMsgAsync<T>(T expected, TimeSpan? wait = null)
    {
        T message = await ExpectMsgAsync<T>(wait);
        Assert.Equal(expected, message);
        return message;
    }

    /// <summary>Messages already received and not yet read; for checking that nothing extra arrived before a sentinel.</summary>
    public int PendingCount => received.Reader.Count;
}
