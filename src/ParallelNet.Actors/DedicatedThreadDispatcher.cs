namespace ParallelNet.Actors;

/// <summary>
/// A fixed set of threads of its own that take the actors' turns in the order they became ready.
/// At most <see cref="ThreadCount"/> of its actors run at once, however many there are, and an idle
/// thread sleeps on a monitor at once: unlike the thread pool's workers it never spins waiting for
/// work, which on hyper-thread siblings would slow the thread that computes. Actors that do heavy,
/// long turns (model replicas) use it so they never outnumber the cores. Dispose it once its actors
/// have stopped; a turn scheduled after that still runs, on the thread pool.
/// </summary>
public sealed class DedicatedThreadDispatcher : Dispatcher, IDisposable
{
    private readonly object gate = new();
    private readonly Queue<IThreadPoolWorkItem> ready = new();
    private int idleThreads;
    private bool disposed;

    /// <param name="name">Names the threads (name-1, name-2, ...), as seen in a debugger or profiler.</param>
    /// <param name="threadCount">How many of its actors may run at once; 1 to 256.</param>
    public DedicatedThreadDispatcher(string name, int threadCount)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (threadCount < 1 || threadCount > 256)
            throw new ArgumentOutOfRangeException(nameof(threadCount), $"A dedicated dispatcher needs 1 to 256 threads, got {threadCount}.");
        ThreadCount = threadCount;
        for (int i = 0; i < threadCount; i++)
            new Thread(RunTurns) { IsBackground = true, Name = $"{name}-{i + 1}" }.Start();
    }

    public int ThreadCount { get; }

    internal override void Schedule(IThreadPoolWorkItem mailbox)
    {
        lock (gate)
        {
            if (!disposed)
            {
                ready.Enqueue(mailbox);
                if (idleThreads > 0) Monitor.Pulse(gate);
                return;
            }
        }
        // Nothing may be lost: a late timer or stop still needs its turn.
        System.Threading.ThreadPool.UnsafeQueueUserWorkItem(mailbox, preferLocal: false);
    }

    private void RunTurns()
    {
        while (true)
        {
            IThreadPoolWorkItem next;
            lock (gate)
            {
                while (ready.Count == 0)
                {
                    if (disposed) return;
                    idleThreads++;
                    Monitor.Wait(gate);
                    idleThreads--;
                }
                next = ready.Dequeue();
            }
            next.Execute();
        }
    }

    /// <summary>Lets the threads end once the turns already queued have run.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            disposed = true;
            Monitor.PulseAll(gate);
        }
    }
}
