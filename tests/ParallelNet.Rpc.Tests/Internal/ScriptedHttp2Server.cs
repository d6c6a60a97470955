using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using ParallelNet.Rpc.Internal.Http2;

namespace ParallelNet.Rpc.Tests;

/// <summary>
/// A raw HTTP/2 server whose every frame the test writes by hand: for the frames a real server never sends
/// (malformed ones, tiny windows, GOAWAY at chosen moments).
/// </summary>
internal sealed class ScriptedHttp2Server : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

    public ScriptedHttp2Server() => _listener.Start();

    public Uri Address => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");

    public GrpcClient Client(GrpcClientOptions? options = null)
    {
        options ??= new GrpcClientOptions();
        options.Transport = GrpcClientTransport.Native;
        return new GrpcClient(Address, options);
    }

    /// <summary>Accepts a connection, reads the client's preface and SETTINGS, and answers with these settings.</summary>
    public async Task<Peer> AcceptAsync(params (ushort Id, uint Value)[] settings)
    {
        var socket = await _listener.AcceptSocketAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var peer = new Peer(new NetworkStream(socket, ownsSocket: true));
        var preface = new byte[24];
        await peer.Stream.ReadExactlyAsync(preface);
        Assert.Equal("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray(), preface);
        var first = await peer.ReadFrameAsync();
        Assert.Equal(FrameType.Settings, first.Header.Type);
        peer.ClientSettings = first.Payload;
        var payload = new byte[settings.Length * 6];
        for (var i = 0; i < settings.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(payload.AsSpan(i * 6), settings[i].Id);
            BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(i * 6 + 2), settings[i].Value);
        }
        await peer.WriteFrameAsync(FrameType.Settings, 0, 0, payload);
        await peer.WriteFrameAsync(FrameType.Settings, FrameFlags.Ack, 0, []);
        return peer;
    }

    public void Dispose() => _listener.Stop();

    internal sealed class Peer(NetworkStream stream) : IDisposable
    {
        public NetworkStream Stream { get; } = stream;

        public byte[] ClientSettings { get; set; } = [];

        public async Task<(FrameHeader Header, byte[] Payload)> ReadFrameAsync()
        {
            var header = new byte[FrameHeader.Size];
            await Stream.ReadExactlyAsync(header).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            var parsed = FrameHeader.Read(header);
            var payload = new byte[parsed.Length];
            await Stream.ReadExactlyAsync(payload).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            return (parsed, payload);
        }

        /// <summary>Reads frames until one of this type arrives (skipping the client's acks, window updates and the like).</summary>
        public async Task<(FrameHeader Header, byte[] Payload)> ReadFrameAsync(FrameType type)
        {
            while (true)
            {
                var frame = await ReadFrameAsync();
                if (frame.Header.Type == type) return frame;
            }
        }

        public Task WriteFrameAsync(FrameType type, byte flags, int streamId, byte[] payload)
        {
            var frame = new byte[FrameHeader.Size + payload.Length];
            new FrameHeader(payload.Length, type, flags, streamId).WriteTo(frame);
            payload.CopyTo(frame, FrameHeader.Size);
            return Stream.WriteAsync(frame).AsTask();
        }

        /// <summary>Response headers as literals without indexing: :status 200 and content-type application/grpc, plus extras.</summary>
        public static byte[] ResponseHeaders(params (string Name, string Value)[] extra)
        {
            var block = new List<byte>();
            HpackEncoder.WriteIndexed(block, 8);
            HpackEncoder.WriteLiteral(block, 31, "application/grpc");
            foreach (var (name, value) in extra) HpackEncoder.WriteLiteral(block, name, value);
            return [.. block];
        }

        public static byte[] Trailers(int status, string message = "")
        {
            var block = new List<byte>();
            HpackEncoder.WriteLiteral(block, "grpc-status", status.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (message.Length > 0) HpackEncoder.WriteLiteral(block, "grpc-message", message);
            return [.. block];
        }

        public static byte[] UInt32(uint value)
        {
            var bytes = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
            return bytes;
        }

        public void Dispose() => Stream.Dispose();
    }
}
