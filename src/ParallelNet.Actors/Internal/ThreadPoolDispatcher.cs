namespace ParallelNet.Actors.Internal;

internal sealed class ThreadPoolDispatcher : Dispatcher
{
    internal override void Schedule(IThreadPoolWorkItem mailbox) => System.Threading.ThreadPool.UnsafeQueueUserWorkItem(mailbox, preferLocal: false);
}
