using System.Buffers.Binary;

namespace ParallelNet.Rpc.Internal.Http2;

/// <summary>Checks of frames both sides of a connection receive alike; a broken one is a connection error.</summary>
internal static class Http2FrameChecks
{
    public static void CheckPriority(FrameHeader header)
    {
        if (header.StreamId == 0) throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "it sent PRIORITY on stream 0.");
        if (header.Length != 5) throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"it sent a PRIORITY frame of {header.Length} bytes (5 expected).");
    }

    public static void CheckPing(FrameHeader header)
    {
        if (header.StreamId != 0) throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "it sent PING on a stream.");
        if (header.Length != 8) throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"it sent a PING frame of {header.Length} bytes (8 expected).");
    }

    /// <summary>The stream whose RST_STREAM this is, and its error code.</summary>
    public static uint ReadRstStream(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (header.StreamId == 0) throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "it sent RST_STREAM on stream 0.");
        if (header.Length != 4) throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"it sent an RST_STREAM frame of {header.Length} bytes (4 expected).");
        return BinaryPrimitives.ReadUInt32BigEndian(payload);
    }

    public static uint ReadWindowIncrement(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (header.Length != 4) throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"it sent a WINDOW_UPDATE frame of {header.Length} bytes (4 expected).");
        var increment = BinaryPrimitives.ReadUInt32BigEndian(payload) & 0x7FFF_FFFF;
        if (header.StreamId == 0 && increment == 0) throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "it sent a connection WINDOW_UPDATE of 0.");
        return increment;
    }

    /// <summary>The settings of a SETTINGS frame, checked; null for an acknowledgement.</summary>
    public static List<(ushort Id, uint Value)>? ReadSettings(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (header.StreamId != 0) throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "it sent SETTINGS on a stream.");
        if (header.Has(FrameFlags.Ack))
        {
            if (header.Length != 0) throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "it sent a SETTINGS acknowledgement with a payload.");
            return null;
        }
        if (header.Length % 6 != 0) throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"it sent a SETTINGS frame of {header.Length} bytes (a multiple of 6 expected).");
        var settings = new List<(ushort, uint)>(header.Length / 6);
        for (var i = 0; i < payload.Length; i += 6)
        {
            var id = BinaryPrimitives.ReadUInt16BigEndian(payload[i..]);
            var value = BinaryPrimitives.ReadUInt32BigEndian(payload[(i + 2)..]);
            switch (id)
            {
                case SettingId.EnablePush when value > 1:
                    throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"it sent SETTINGS_ENABLE_PUSH {value}.");
                case SettingId.InitialWindowSize when value > FrameHeader.MaxWindowSize:
                    throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, $"it sent SETTINGS_INITIAL_WINDOW_SIZE {value}, above 2^31-1.");
                case SettingId.MaxFrameSize when value is < FrameHeader.MinMaxFrameSize or > FrameHeader.MaxMaxFrameSize:
                    throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"it sent SETTINGS_MAX_FRAME_SIZE {value}, outside 16384..16777215.");
            }
            settings.Add((id, value));
        }
        return settings;
    }

    /// <summary>A new window after an increment or a SETTINGS_INITIAL_WINDOW_SIZE change; above 2^31-1 is a flow-control error.</summary>
    public static long CheckWindow(long window, string overflowMessage) => window <= FrameHeader.MaxWindowSize ? window
        : throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, overflowMessage);
}
