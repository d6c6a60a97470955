using ParallelNet.Actors.Internal;

namespace ParallelNet.Actors;

/// <summary>
/// Where actors' mailboxes run (Akka's dispatcher): by default the .NET thread pool; an actor whose
/// <see cref="Props"/> name another dispatcher runs its turns there. Either way an actor processes one
/// message at a time and the guarantees of the kernel hold.
/// </summary>
public abstract class Dispatcher
{
    private protected Dispatcher()
    {
    }

    /// <summary>The .NET thread pool, shared with the rest of the process.</summary>
    public static Dispatcher ThreadPool { get; } = new ThreadPoolDispatcher();

    /// <summary>Runs <paramref name="mailbox"/>'s turn soon, on one of this dispatcher's threads.</summary>
    internal abstract void Schedule(IThreadPoolWorkItem mailbox);
}
