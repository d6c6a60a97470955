using System.Threading.Channels;
using ParallelNet.Actors;

namespace ParallelNet.Cluster.Tests.Support;

/// <summary>An actor that hands every message it receives (with its sender) to the test.</summary>
internal sealed class Inbox : ReceiveActor
{
    public static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(20);

    public Inbox(ChannelWriter<(object Message, IActorRef Sender)> received)
    {
        ReceiveAny(message => received.TryWrite((message, Sender)));
    }

    /// <summary>Creates an inbox actor called <paramref name="name"/> and the channel it fills.</summary>
    public static (IActorRef Actor, ChannelReader<(object Message, IActorRef Sender)> Received) Create(ActorSystem system, string name)
    {
        var channel = Channel.CreateUnbounded<(object, IActorRef)>();
        IActorRef actor = system.ActorOf(Props.Create(() => new Inbox(channel.Writer)), name);
        return (actor, channel.Reader);
    }
}

internal static class ChannelReaderExtensions
{
    public static async Task<(object Message, IActorRef Sender)> NextAsync(this ChannelReader<(object Message, IActorRef Sender)> reader, TimeSpan? wait = null)
    {
        using var timeout = new CancellationTokenSource(wait ?? Inbox.DefaultWait);
        try
        {
            return await reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"Nothing arrived within {wait ?? Inbox.DefaultWait}.");
        }
    }
}

/// <summary>An actor that watches <c>subject</c> from its start, says "watching", then reports the Terminated.</summary>
internal sealed class WatchingInbox : ReceiveActor
{
    private readonly IActorRef subject;
    private readonly ChannelWriter<(object Message, IActorRef Sender)> report;

    public WatchingInbox(IActorRef subject, ChannelWriter<(object Message, IActorRef Sender)> report)
    {
        this.subject = subject;
        this.report = report;
        Receive<Terminated>(t => report.TryWrite((t, Sender)));
    }

    protected override void PreStart()
    {
        Context.Watch(subject);
        report.TryWrite(("watching", Self));
    }
}
