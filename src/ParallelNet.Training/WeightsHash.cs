using System.Runtime.InteropServices;
using System.Security.Cryptography;
using ParallelNet.NN;

namespace ParallelNet.Training;

/// <summary>weights_sha256: SHA-256 of every parameter slot (running statistics included) as little-endian float32, in layout order.</summary>
public static class WeightsHash
{
    public static string Sha256(Model model)
    {
        var host = new float[model.Layout.TotalSize];
        model.Compute.Download(model.Parameters, host);
        return Sha256(host);
    }

    public static string Sha256(ReadOnlySpan<float> weights)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("weights_sha256 is defined on little-endian float32 bytes.");
        return Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(weights)));
    }
}
