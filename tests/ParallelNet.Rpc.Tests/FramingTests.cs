using System.Buffers;
using System.IO.Pipelines;
using Google.Protobuf;
using ParallelNet.Rpc.Internal;
using ParallelNet.Rpc.Tests.Protos;

namespace ParallelNet.Rpc.Tests;

/// <summary>Messages split across arbitrary chunk boundaries (as HTTP/2 DATA frames split them) come back whole.</summary>
public sealed class FramingTests
{
    private static List<EchoRequest> RandomMessages(Random random) =>
        Enumerable.Range(0, 40).Select(i => new EchoRequest
        {
            Text = "m" + i,
            Count = i,
            // Tiny, empty, odd-sized and larger-than-a-chunk payloads.
            Payload = ByteString.CopyFrom(Enumerable.Range(0, random.Next(4) switch { 0 => 0, 1 => random.Next(1, 8), 2 => random.Next(8, 300), _ => random.Next(10_000, 200_000) })
                .Select(_ => (byte)random.Next(256)).ToArray()),
        }).ToList();

    private static byte[] Frame(IEnumerable<EchoRequest> messages) => messages.SelectMany(RawGrpc.Frame).ToArray();

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 7)]
    [InlineData(3, 4096)]
    [InlineData(4, 70_000)]
    public async Task Pipe_reader_reassembles_messages_from_any_chunking(int seed, int maxChunk)
    {
        var random = new Random(seed);
        var messages = RandomMessages(random);
        var bytes = Frame(messages);
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        var writer = Task.Run(async () =>
        {
            for (var offset = 0; offset < bytes.Length;)
            {
                var chunk = Math.Min(bytes.Length - offset, random.Next(1, maxChunk + 1));
                await pipe.Writer.WriteAsync(bytes.AsMemory(offset, chunk));
                offset += chunk;
            }
            await pipe.Writer.CompleteAsync();
        });

        var read = new List<EchoRequest>();
        while (await PipeMessageFraming.ReadMessageAsync(pipe.Reader, EchoRequest.Parser, int.MaxValue, default) is { } message) read.Add(message);
        await writer;

        Assert.Equal(messages, read);
    }

    [Theory]
    [InlineData(5, 1)]
    [InlineData(6, 13)]
    [InlineData(7, 65_536)]
    public async Task Stream_reader_reassembles_messages_from_any_chunking(int seed, int maxChunk)
    {
        var random = new Random(seed);
        var messages = RandomMessages(random);
        using var stream = new TricklingStream(Frame(messages), maxChunk, random);
        var read = new List<EchoRequest>();
        while (await StreamMessageFraming.ReadMessageAsync(stream, EchoRequest.Parser, int.MaxValue, default) is { } message) read.Add(message);
        Assert.Equal(messages, read);
    }

    [Fact]
    public async Task Pipe_writer_frames_small_and_block_spanning_messages_byte_for_byte()
    {
        var random = new Random(11);
        var messages = RandomMessages(random);
        messages.Add(new EchoRequest { Text = "big", Payload = ByteString.CopyFrom(Enumerable.Range(0, 3_000_000).Select(i => (byte)(i * 7)).ToArray()) });
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        foreach (var message in messages) PipeMessageFraming.WriteMessage(pipe.Writer, message, maxMessageSize: null);
        await pipe.Writer.CompleteAsync();

        var written = await pipe.Reader.ReadAsync();
        while (!written.IsCompleted)
        {
            pipe.Reader.AdvanceTo(written.Buffer.Start, written.Buffer.End);
            written = await pipe.Reader.ReadAsync();
        }
        Assert.Equal(Frame(messages), written.Buffer.ToArray());
    }

    [Fact]
    public async Task Pipe_stream_ending_inside_a_message_is_INTERNAL()
    {
        var bytes = RawGrpc.Frame(new EchoRequest { Payload = ByteString.CopyFrom(new byte[100_000]) });
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(bytes.AsMemory(0, 50_000));
        var reading = PipeMessageFraming.ReadMessageAsync(pipe.Reader, EchoRequest.Parser, int.MaxValue, default).AsTask();
        await pipe.Writer.CompleteAsync();
        var error = await Assert.ThrowsAsync<RpcException>(() => reading);
        Assert.Equal(StatusCode.Internal, error.StatusCode);
    }

    /// <summary>Returns at most a random number of bytes per read, like a network stream.</summary>
    private sealed class TricklingStream(byte[] data, int maxChunk, Random random) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, random.Next(1, maxChunk + 1)));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, random.Next(1, maxChunk + 1))], cancellationToken);
    }
}
