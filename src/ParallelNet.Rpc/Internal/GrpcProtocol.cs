using System.Globalization;
using System.Net;
using System.Text;

namespace ParallelNet.Rpc.Internal;

/// <summary>The header names and small encodings of the gRPC-over-HTTP/2 protocol (grpc/grpc doc/PROTOCOL-HTTP2.md).</summary>
internal static class GrpcProtocol
{
    public const string ContentType = "application/grpc";
    public const string StatusHeader = "grpc-status";
    public const string MessageHeader = "grpc-message";
    public const string TimeoutHeader = "grpc-timeout";
    public const string EncodingHeader = "grpc-encoding";
    public const string AcceptEncodingHeader = "grpc-accept-encoding";
    public const string IdentityEncoding = "identity";
    public const int MessageHeaderSize = 5;
    public const int DefaultMaxReceiveMessageSize = 4 * 1024 * 1024;

    /// <summary>True for application/grpc, application/grpc+proto and either with parameters (";charset=...").</summary>
    public static bool IsGrpcContentType(string? contentType)
    {
        if (contentType is null || !contentType.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase)) return false;
        var rest = contentType.AsSpan(ContentType.Length);
        if (rest.StartsWith("+proto", StringComparison.OrdinalIgnoreCase)) rest = rest["+proto".Length..];
        return rest.IsEmpty || rest[0] == ';';
    }

    /// <summary>Headers the protocol owns; they are never surfaced as user metadata.</summary>
    public static bool IsReservedHeader(string name) =>
        name.StartsWith(':') || name.StartsWith("grpc-", StringComparison.OrdinalIgnoreCase)
        || name.Equals("content-type", StringComparison.OrdinalIgnoreCase) || name.Equals("te", StringComparison.OrdinalIgnoreCase)
        || name.Equals("host", StringComparison.OrdinalIgnoreCase) || name.Equals("user-agent", StringComparison.OrdinalIgnoreCase)
        || name.Equals("content-length", StringComparison.OrdinalIgnoreCase) || name.Equals("accept-encoding", StringComparison.OrdinalIgnoreCase)
        || name.Equals("date", StringComparison.OrdinalIgnoreCase) || name.Equals("server", StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses grpc-timeout ("1..8 digits" + H/M/S/m/u/n); null when the value is malformed.</summary>
    public static TimeSpan? ParseTimeout(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length < 2 || value.Length > 9) return null;
        if (!long.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount)) return null;
        double ticks = value[^1] switch
        {
            'H' => amount * (double)TimeSpan.TicksPerHour,
            'M' => amount * (double)TimeSpan.TicksPerMinute,
            'S' => amount * (double)TimeSpan.TicksPerSecond,
            'm' => amount * (double)TimeSpan.TicksPerMillisecond,
            'u' => amount * 10.0,
            'n' => Math.Ceiling(amount / 100.0),
            _ => double.NaN,
        };
        if (double.IsNaN(ticks)) return null;
        return ticks >= TimeSpan.MaxValue.Ticks ? TimeSpan.MaxValue : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>Formats a positive timeout with at most 8 digits, rounding up so the peer never sees a shorter deadline.</summary>
    public static string FormatTimeout(TimeSpan timeout)
    {
        const long maxDigits = 99_999_999;
        var ticks = Math.Max(1, timeout.Ticks);
        var micros = (ticks + 9) / 10;
        if (micros <= maxDigits) return micros.ToString(CultureInfo.InvariantCulture) + "u";
        var millis = (ticks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond;
        if (millis <= maxDigits) return millis.ToString(CultureInfo.InvariantCulture) + "m";
        var seconds = (ticks + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond;
        if (seconds <= maxDigits) return seconds.ToString(CultureInfo.InvariantCulture) + "S";
        var minutes = (ticks + TimeSpan.TicksPerMinute - 1) / TimeSpan.TicksPerMinute;
        if (minutes <= maxDigits) return minutes.ToString(CultureInfo.InvariantCulture) + "M";
        var hours = Math.Min(maxDigits, (ticks + TimeSpan.TicksPerHour - 1) / TimeSpan.TicksPerHour);
        return hours.ToString(CultureInfo.InvariantCulture) + "H";
    }

    /// <summary>grpc-message encoding: UTF-8, then every byte outside 0x20-0x7E and '%' itself as %XX.</summary>
    public static string PercentEncode(string message)
    {
        var needsEncoding = false;
        foreach (var c in message)
            if (c < 0x20 || c > 0x7E || c == '%') { needsEncoding = true; break; }
        if (!needsEncoding) return message;
        var builder = new StringBuilder(message.Length * 2);
        foreach (var b in Encoding.UTF8.GetBytes(message))
        {
            if (b < 0x20 || b > 0x7E || b == (byte)'%') builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            else builder.Append((char)b);
        }
        return builder.ToString();
    }

    /// <summary>Reverses PercentEncode; malformed escapes are kept as they are, as the spec asks.</summary>
    public static string PercentDecode(string? value)
    {
        if (string.IsNullOrEmpty(value)) return "";
        if (!value.Contains('%')) return value;
        var bytes = new List<byte>(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '%' && i + 2 < value.Length
                && byte.TryParse(value.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var decoded))
            {
                bytes.Add(decoded);
                i += 2;
            }
            else
            {
                foreach (var b in Encoding.UTF8.GetBytes(value[i].ToString())) bytes.Add(b);
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>Base64 as gRPC peers send it: padded or not (grpcio omits the padding).</summary>
    public static byte[] DecodeBase64(string value)
    {
        var trimmed = value.Trim();
        var padding = (4 - trimmed.Length % 4) % 4;
        if (padding == 3) throw new FormatException("A base64 value cannot have a length of 4n+1.");
        return Convert.FromBase64String(padding == 0 ? trimmed : trimmed + new string('=', padding));
    }

    public static string EncodeBase64(byte[] value) => Convert.ToBase64String(value).TrimEnd('=');

    /// <summary>The caller's address as gRPC names it: "ipv4:127.0.0.1:5000" or "ipv6:[::1]:5000".</summary>
    public static string FormatPeer(IPAddress? address, int port) => address switch
    {
        null => "unknown",
        { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } => $"ipv6:[{address}]:{port}",
        _ => $"ipv4:{address}:{port}",
    };

    /// <summary>Adds a header or trailer value to metadata; -bin values are base64-decoded, malformed ones skipped.</summary>
    public static void AddToMetadata(Metadata metadata, string name, string value)
    {
        var key = name.ToLowerInvariant();
        if (IsReservedHeader(key)) return;
        try
        {
            if (Metadata.Entry.IsBinaryKey(key))
            {
                // Several binary values can be folded into one header, separated by commas.
                foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    metadata.Add(key, DecodeBase64(part));
            }
            else
            {
                metadata.Add(key, value);
            }
        }
        catch (ArgumentException) { }
        catch (FormatException) { }
    }

    /// <summary>The status a client reports for a non-200 HTTP response without grpc-status (doc/http-grpc-status-mapping.md).</summary>
    public static StatusCode StatusFromHttpStatus(HttpStatusCode status) => (int)status switch
    {
        400 => StatusCode.Internal,
        401 => StatusCode.Unauthenticated,
        403 => StatusCode.PermissionDenied,
        404 => StatusCode.Unimplemented,
        429 or 502 or 503 or 504 => StatusCode.Unavailable,
        _ => StatusCode.Unknown,
    };

    /// <summary>The status for a stream reset by the peer with this HTTP/2 error code.</summary>
    public static StatusCode StatusFromHttp2ErrorCode(long errorCode) => errorCode switch
    {
        0x7 => StatusCode.Unavailable,          // REFUSED_STREAM
        0x8 => StatusCode.Cancelled,            // CANCEL
        0xB => StatusCode.ResourceExhausted,    // ENHANCE_YOUR_CALM
        0xC => StatusCode.PermissionDenied,     // INADEQUATE_SECURITY
        _ => StatusCode.Internal,
    };
}
