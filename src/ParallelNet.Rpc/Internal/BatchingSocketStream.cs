using System.Net;
using System.Net.Http;
using System.Net.Sockets;

namespace ParallelNet.Rpc.Internal;

/// <summary>
/// The client's connection stream (SocketsHttpHandler.ConnectCallback), batching system calls both ways.
/// SocketsHttpHandler writes one 16 KiB DATA frame at a time and reads about one frame at a time, and each was one
/// system call running the loopback TCP path: thousands per 64 MiB message on each side. Here a write copies its
/// bytes into a buffer and returns; one send loop on the thread pool sends everything buffered so far, so the frames
/// written while a send is in the kernel leave together. Bytes keep their order, nothing waits for more data (a lone
/// frame is sent at once), writes wait when a few MiB are buffered, and a failed send fails the next write. A read
/// takes whatever the socket holds, up to 256 KiB, and serves the handler's small reads from it.
/// </summary>
internal sealed class BatchingSocketStream : Stream
{
    private const int InitialBufferSize = 64 * 1024;
    private const int MaxBuffered = 4 * 1024 * 1024;
    private const int ReadAheadSize = 256 * 1024;

    private readonly Socket _socket;
    private readonly NetworkStream _reads;
    private readonly object _lock = new();
    private byte[] _filling = new byte[InitialBufferSize];
    private byte[]? _spare = new byte[InitialBufferSize];
    private int _filled;
    private bool _sending;
    private Exception? _failure;
    private TaskCompletionSource? _drained;
    private byte[]? _readAhead;
    private int _readStart;
    private int _readEnd;

    private BatchingSocketStream(Socket socket)
    {
        _socket = socket;
        _reads = new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>Connects as SocketsHttpHandler does by default (TCP, no Nagle); TLS, when used, goes on top.</summary>
    public static ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken) =>
        ConnectAsync(context.DnsEndPoint, cancellationToken);

    public static async ValueTask<Stream> ConnectAsync(EndPoint endPoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
            return new BatchingSocketStream(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty) return _readEnd > _readStart ? 0 : _reads.Read(buffer);
        if (_readEnd == _readStart)
        {
            if (buffer.Length >= ReadAheadSize) return _reads.Read(buffer);
            _readAhead ??= new byte[ReadAheadSize];
            (_readStart, _readEnd) = (0, _reads.Read(_readAhead));
        }
        return TakeReadAhead(buffer);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // A zero-byte read waits for data without holding a buffer (SocketsHttpHandler uses it while idle).
        if (buffer.IsEmpty) return _readEnd > _readStart ? 0 : await _reads.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (_readEnd == _readStart)
        {
            if (buffer.Length >= ReadAheadSize) return await _reads.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            _readAhead ??= new byte[ReadAheadSize];
            var read = await _reads.ReadAsync(_readAhead, cancellationToken).ConfigureAwait(false);
            (_readStart, _readEnd) = (0, read);
        }
        return TakeReadAhead(buffer.Span);
    }

    private int TakeReadAhead(Span<byte> destination)
    {
        var count = Math.Min(destination.Length, _readEnd - _readStart);
        _readAhead.AsSpan(_readStart, count).CopyTo(destination);
        _readStart += count;
        return count;
    }

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task drained;
            lock (_lock)
            {
                if (_failure is not null) throw new IOException("The connection failed while sending.", _failure);
                if (_filled == 0 || _filled + buffer.Length <= MaxBuffered)
                {
                    Append(buffer.Span);
                    if (!_sending)
                    {
                        _sending = true;
                        ThreadPool.UnsafeQueueUserWorkItem(static stream => _ = stream.SendLoopAsync(), this, preferLocal: false);
                    }
                    return;
                }
                _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                drained = _drained.Task;
            }
            await drained.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_filling.Length - _filled < bytes.Length)
        {
            var grown = new byte[Math.Max(_filled + bytes.Length, Math.Min(2 * _filling.Length, MaxBuffered))];
            _filling.AsSpan(0, _filled).CopyTo(grown);
            _filling = grown;
        }
        bytes.CopyTo(_filling.AsSpan(_filled));
        _filled += bytes.Length;
    }

    private async Task SendLoopAsync()
    {
        while (true)
        {
            byte[] batch;
            int length;
            lock (_lock)
            {
                if (_filled == 0)
                {
                    _sending = false;
                    return;
                }
                (batch, length) = (_filling, _filled);
                _filling = _spare ?? new byte[InitialBufferSize];
                _spare = null;
                _filled = 0;
                ReleaseWriters();
            }
            try
            {
                for (var sent = 0; sent < length;)
                    sent += await _socket.SendAsync(batch.AsMemory(sent, length - sent), SocketFlags.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                lock (_lock)
                {
                    _failure = ex;
                    _sending = false;
                    ReleaseWriters();
                }
                return;
            }
            lock (_lock) _spare = batch;
        }
    }

    private void ReleaseWriters()
    {
        _drained?.TrySetResult();
        _drained = null;
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // Let what was written (a GOAWAY, a last RST_STREAM) leave before the socket closes; a stuck peer gets a second.
            SpinWait.SpinUntil(() => { lock (_lock) return !_sending; }, TimeSpan.FromSeconds(1));
            _reads.Dispose();
        }
        base.Dispose(disposing);
    }
}
