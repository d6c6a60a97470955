using System.Globalization;

namespace ParallelNet.Rpc.Internal.Http2;

/// <summary>HPACK header blocks of the server's responses: :status and content-type from the static table, the rest as literals.</summary>
internal static class Http2ResponseHeaders
{
    private const int Status200Index = 8;
    private const int StatusNameIndex = 8;
    private const int ContentTypeNameIndex = 31;

    public static byte[] Encode(int httpStatus, bool grpc, IEnumerable<(string Name, string Value)> fields)
    {
        var block = new List<byte>(128);
        if (httpStatus == 200) HpackEncoder.WriteIndexed(block, Status200Index);
        else HpackEncoder.WriteLiteral(block, StatusNameIndex, httpStatus.ToString(CultureInfo.InvariantCulture));
        if (grpc) HpackEncoder.WriteLiteral(block, ContentTypeNameIndex, GrpcProtocol.ContentType);
        AddFields(block, fields);
        return [.. block];
    }

    public static byte[] EncodeTrailers(IEnumerable<(string Name, string Value)> fields)
    {
        var block = new List<byte>(64);
        AddFields(block, fields);
        return [.. block];
    }

    private static void AddFields(List<byte> block, IEnumerable<(string Name, string Value)> fields)
    {
        // HTTP/2 field names are lower case (RFC 9113 8.2.1).
        foreach (var (name, value) in fields) HpackEncoder.WriteLiteral(block, name.ToLowerInvariant(), value);
    }
}
