using System.Net;

namespace ParallelNet.Rpc.Internal.Http2;

/// <summary>A stream whose reads can wait for a minimum count, so a whole message arrives with one wake-up.</summary>
internal interface IMinimumReadStream
{
    ValueTask<int> ReadAtLeastAsync(Memory<byte> destination, int minimum, CancellationToken cancellationToken);
}

/// <summary>The response body of an <see cref="Http2Stream"/>.</summary>
internal sealed class Http2ResponseContent(Http2Stream stream) : HttpContent
{
    private int _disposed;

    protected override Task SerializeToStreamAsync(Stream target, TransportContext? context) => new Http2ResponseBodyStream(stream).CopyToAsync(target);

    protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult<Stream>(new Http2ResponseBodyStream(stream));

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0) stream.Connection.OnResponseDisposed(stream);
        base.Dispose(disposing);
    }
}

internal sealed class Http2ResponseBodyStream(Http2Stream stream) : Stream, IMinimumReadStream
{
    public ValueTask<int> ReadAtLeastAsync(Memory<byte> destination, int minimum, CancellationToken cancellationToken) =>
        stream.ReadAtLeastAsync(destination, minimum, cancellationToken);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        stream.ReadAtLeastAsync(buffer, 1, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>The request body of an <see cref="Http2Stream"/>: every write goes out as DATA frames straight from the caller's memory.</summary>
internal sealed class Http2RequestBodyStream(Http2Stream stream) : Stream
{
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        new(stream.Connection.SendDataAsync(stream, buffer, cancellationToken));

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        stream.Connection.SendDataAsync(stream, buffer.AsMemory(offset, count), cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count, default).GetAwaiter().GetResult();

    // Frames leave as they are written; HEADERS went out when the stream started.
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override void Flush() { }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
