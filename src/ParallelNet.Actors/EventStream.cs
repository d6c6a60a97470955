using System.Diagnostics;

namespace ParallelNet.Actors;

/// <summary>
/// The system's publish/subscribe channel for kernel events (<see cref="DeadLetter"/>,
/// <see cref="UnhandledMessage"/>, <see cref="ActorError"/>) and any application events. A
/// subscription receives every published event assignable to its type. Handlers run on the
/// publishing thread, so keep them short; subscribe an actor to do real work.
/// </summary>
public sealed class EventStream
{
    private readonly Lock gate = new();
    private Subscription[] subscriptions = [];

    /// <summary>Calls <paramref name="handler"/> for each event of type <typeparamref name="TEvent"/>; dispose the result to stop.</summary>
    public IDisposable Subscribe<TEvent>(Action<TEvent> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var subscription = new Subscription(this, typeof(TEvent), null, e => handler((TEvent)e));
        Add(subscription);
        return subscription;
    }

    /// <summary>Tells <paramref name="subscriber"/> each event assignable to <paramref name="eventType"/>.</summary>
    public void Subscribe(IActorRef subscriber, Type eventType)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        ArgumentNullException.ThrowIfNull(eventType);
        Add(new Subscription(this, eventType, subscriber, e => subscriber.Tell(e, ActorRefs.NoSender)));
    }

    /// <summary>Removes every subscription of <paramref name="subscriber"/>.</summary>
    public void Unsubscribe(IActorRef subscriber)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        lock (gate) subscriptions = [.. subscriptions.Where(s => !Equals(s.Subscriber, subscriber))];
    }

    public void Publish(object @event)
    {
        ArgumentNullException.ThrowIfNull(@event);
        Subscription[] snapshot = Volatile.Read(ref subscriptions);
        Type type = @event.GetType();
        foreach (Subscription subscription in snapshot)
        {
            if (!subscription.EventType.IsAssignableFrom(type)) continue;
            try
            {
                subscription.Deliver(@event);
            }
            catch (Exception ex)
            {
                // Publishing happens inside the kernel; a subscriber's bug must not break the actor that published.
                Trace.TraceError($"An EventStream subscriber for {subscription.EventType.Name} threw on {type.Name}: {ex}");
            }
        }
    }

    private void Add(Subscription subscription)
    {
        lock (gate) subscriptions = [.. subscriptions, subscription];
    }

    private void Remove(Subscription subscription)
    {
        lock (gate) subscriptions = [.. subscriptions.Where(s => !ReferenceEquals(s, subscription))];
    }

    private sealed class Subscription(EventStream owner, Type eventType, IActorRef? subscriber, Action<object> deliver) : IDisposable
    {
        public Type EventType { get; } = eventType;
        public IActorRef? Subscriber { get; } = subscriber;
        public void Deliver(object @event) => deliver(@event);
        public void Dispose() => owner.Remove(this);
    }
}
