using System.Threading.Channels;

namespace ParallelNet.Actors.Internal;

/// <summary>
/// An actor's two queues and its turn on its dispatcher (by default the thread pool). User messages go through a
/// Channel&lt;Envelope&gt;; system messages through a small locked queue that is always drained
/// first. At most one thread runs the mailbox at a time (the status flag), which is what makes an
/// actor process one message at a time; the mailbox itself is the work item, so scheduling
/// allocates nothing.
/// </summary>
internal sealed class Mailbox : IThreadPoolWorkItem
{
    // User messages per turn before the thread goes back to the pool, so a flooded actor cannot starve the others.
    private const int Throughput = 64;
    private const int Idle = 0, Scheduled = 1, Closed = 2;

    private readonly ActorCell cell;
    private readonly Dispatcher dispatcher;
    /// <summary>Many writers, one reader (the mailbox's turn); the reader must support TryPeek, which the idle check relies on.</summary>
    internal static readonly UnboundedChannelOptions UserQueueOptions = new() { SingleReader = true, SingleWriter = false, AllowSynchronousContinuations = false };

    private readonly Channel<Envelope> userMessages = Channel.CreateUnbounded<Envelope>(UserQueueOptions);
    private readonly Lock systemLock = new();
    private readonly Queue<SystemMessage> systemMessages = new();
    private readonly Action resumeAfterAsyncHandler;
    private volatile bool hasSystemMessages;
    private bool systemQueueClosed;
    private int status;
    private Task? runningHandler;

    public Mailbox(ActorCell cell, Dispatcher dispatcher)
    {
        this.cell = cell;
        this.dispatcher = dispatcher;
        resumeAfterAsyncHandler = () => dispatcher.Schedule(this);
    }

    /// <summary>False once the mailbox is closed: the caller turns the message into a dead letter.</summary>
    public bool Post(Envelope envelope)
    {
        if (!userMessages.Writer.TryWrite(envelope)) return false;
        ScheduleIfIdle();
        return true;
    }

    public bool PostSystem(SystemMessage message)
    {
        lock (systemLock)
        {
            if (systemQueueClosed) return false;
            systemMessages.Enqueue(message);
            hasSystemMessages = true;
        }
        ScheduleIfIdle();
        return true;
    }

    private void ScheduleIfIdle()
    {
        if (Interlocked.CompareExchange(ref status, Scheduled, Idle) == Idle)
            dispatcher.Schedule(this);
    }

    void IThreadPoolWorkItem.Execute()
    {
        if (runningHandler is { } finished)
        {
            runningHandler = null;
            cell.CompleteAsyncHandler(finished);
        }

        int budget = Throughput;
        while (true)
        {
            DrainSystemMessages();
            if (cell.IsTerminated) return; // Close() has set the status for good.
            if (budget == 0 || !cell.CanProcessUserMessages) break;
            if (!userMessages.Reader.TryRead(out Envelope envelope)) break;
            budget--;
            Task? pending = cell.Invoke(envelope);
            if (pending is not null)
            {
                // Stay Scheduled while the handler's task runs: nothing else enters the actor meanwhile.
                runningHandler = pending;
                pending.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(resumeAfterAsyncHandler);
                return;
            }
        }

        // Full fence, then look again: a message posted while we were finishing saw Scheduled and did not schedule.
        Interlocked.Exchange(ref status, Idle);
        if (hasSystemMessages || (cell.CanProcessUserMessages && userMessages.Reader.TryPeek(out _)))
            ScheduleIfIdle();
    }

    private void DrainSystemMessages()
    {
        while (hasSystemMessages)
        {
            SystemMessage message;
            lock (systemLock)
            {
                if (!systemMessages.TryDequeue(out message!))
                {
                    hasSystemMessages = false;
                    return;
                }
                if (systemMessages.Count == 0) hasSystemMessages = false;
            }
            cell.ProcessSystemMessage(message);
            if (cell.IsTerminated) return;
        }
    }

    /// <summary>
    /// Refuses all further messages. Returns the system messages still queued; the user messages
    /// still queued go to <paramref name="deadLetter"/>. Runs on the mailbox's own turn.
    /// </summary>
    public List<SystemMessage> Close(Action<Envelope> deadLetter)
    {
        Volatile.Write(ref status, Closed);
        userMessages.Writer.TryComplete();
        List<SystemMessage> leftovers;
        lock (systemLock)
        {
            systemQueueClosed = true;
            leftovers = [.. systemMessages];
            systemMessages.Clear();
            hasSystemMessages = false;
        }
        // A write either completed before TryComplete (and is read here) or was refused (and its sender made it a dead letter).
        while (userMessages.Reader.TryRead(out Envelope envelope)) deadLetter(envelope);
        return leftovers;
    }
}
