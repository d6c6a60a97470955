using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ParallelNet.Rpc.Tests;

internal static class TestCertificates
{
    /// <summary>Writes a self-signed certificate for localhost (valid from yesterday to tomorrow) to a temporary .pfx; the caller deletes it.</summary>
    public static string CreateLocalhostPfx(string password)
    {
        var path = Path.Combine(Path.GetTempPath(), $"pn-rpc-{Guid.NewGuid():N}.pfx");
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, password));
        return path;
    }
}
