using System.Buffers.Binary;

namespace ParallelNet.Rpc.Internal.Http2;

internal enum FrameType : byte
{
    Data = 0x0, Headers = 0x1, Priority = 0x2, RstStream = 0x3, Settings = 0x4, PushPromise = 0x5, Ping = 0x6,
    GoAway = 0x7, WindowUpdate = 0x8, Continuation = 0x9,
}

internal static class FrameFlags
{
    public const byte EndStream = 0x1, Ack = 0x1, EndHeaders = 0x4, Padded = 0x8, Priority = 0x20;
}

internal static class Http2ErrorCode
{
    public const int NoError = 0x0, ProtocolError = 0x1, InternalError = 0x2, FlowControlError = 0x3, SettingsTimeout = 0x4,
        StreamClosed = 0x5, FrameSizeError = 0x6, RefusedStream = 0x7, Cancel = 0x8, CompressionError = 0x9;
}

internal static class SettingId
{
    public const ushort HeaderTableSize = 0x1, EnablePush = 0x2, MaxConcurrentStreams = 0x3, InitialWindowSize = 0x4,
        MaxFrameSize = 0x5, MaxHeaderListSize = 0x6;
}

/// <summary>The 9-byte header every HTTP/2 frame starts with (RFC 9113 4.1).</summary>
internal readonly record struct FrameHeader(int Length, FrameType Type, byte Flags, int StreamId)
{
    public const int Size = 9;
    public const int MinMaxFrameSize = 16 * 1024;
    public const int MaxMaxFrameSize = (1 << 24) - 1;
    public const int MaxWindowSize = int.MaxValue;

    public bool Has(byte flag) => (Flags & flag) != 0;

    public static FrameHeader Read(ReadOnlySpan<byte> source) => new(
        source[0] << 16 | source[1] << 8 | source[2], (FrameType)source[3], source[4],
        (int)(BinaryPrimitives.ReadUInt32BigEndian(source[5..]) & 0x7FFF_FFFF));

    public void WriteTo(Span<byte> destination)
    {
        destination[0] = (byte)(Length >> 16);
        destination[1] = (byte)(Length >> 8);
        destination[2] = (byte)Length;
        destination[3] = (byte)Type;
        destination[4] = Flags;
        BinaryPrimitives.WriteUInt32BigEndian(destination[5..], (uint)StreamId);
    }
}

/// <summary>The server broke the protocol on the connection level: the connection ends with GOAWAY carrying this code.</summary>
internal sealed class Http2ConnectionException(int errorCode, string message) : Exception(message)
{
    public int ErrorCode { get; } = errorCode;
}
