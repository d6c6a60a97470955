using System.Threading.Channels;
using ParallelNet.Jobs.V1;

namespace ParallelNet.Jobs.Internal;

/// <summary>
/// Fans one job's events out to its watchers. A slow watcher loses its oldest step events rather than
/// slowing training (the bounded channel drops them); state changes and the result come last and are kept.
/// </summary>
internal sealed class JobEventHub
{
    private const int WatcherBacklog = 1024;
    private readonly List<Channel<JobEvent>> _watchers = [];
    private readonly Lock _gate = new();
    private bool _completed;

    /// <summary>Adds a watcher that first receives <paramref name="first"/>; when the job has already ended, that is all it gets.</summary>
    public ChannelReader<JobEvent> Subscribe(IEnumerable<JobEvent> first)
    {
        var channel = Channel.CreateBounded<JobEvent>(new BoundedChannelOptions(WatcherBacklog) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (_gate)
        {
            foreach (var e in first) channel.Writer.TryWrite(e);
            if (_completed) channel.Writer.TryComplete();
            else _watchers.Add(channel);
        }
        return channel.Reader;
    }

    public void Unsubscribe(ChannelReader<JobEvent> reader)
    {
        lock (_gate) _watchers.RemoveAll(w => w.Reader == reader);
    }

    public void Publish(JobEvent e)
    {
        lock (_gate)
            foreach (var watcher in _watchers) watcher.Writer.TryWrite(e);
    }

    /// <summary>Sends the last events and ends every watch.</summary>
    public void Complete(IEnumerable<JobEvent> last)
    {
        lock (_gate)
        {
            var events = last.ToList();
            foreach (var watcher in _watchers)
            {
                foreach (var e in events) watcher.Writer.TryWrite(e);
                watcher.Writer.TryComplete();
            }
            _watchers.Clear();
            _completed = true;
        }
    }

    /// <summary>Ends every watch without a result (the server is stopping; the job will resume after a restart).</summary>
    public void Abandon()
    {
        lock (_gate)
        {
            foreach (var watcher in _watchers) watcher.Writer.TryComplete(new OperationCanceledException("The server is stopping."));
            _watchers.Clear();
        }
    }
}
