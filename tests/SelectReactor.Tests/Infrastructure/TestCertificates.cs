using System;
using System.IO;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace SelectReactor.Tests.Infrastructure;

/// <summary>
/// Certificates made when the tests run (never committed): self-signed, ECDSA P-256 (made in microseconds), each
/// loaded back from PKCS#12 so that its key is a regular one OpenSSL uses like any other.
/// </summary>
internal static class TestCertificates
{
    private static readonly Lazy<X509Certificate2> s_localhost = new(() => Create("localhost", server: true));
    private static readonly Lazy<X509Certificate2> s_alpha = new(() => Create("alpha.test", server: true));
    private static readonly Lazy<X509Certificate2> s_beta = new(() => Create("beta.test", server: true));
    private static readonly Lazy<X509Certificate2> s_client = new(() => Create("client.test", server: false));
    private static readonly Lazy<X509Certificate2> s_stranger = new(() => Create("stranger.test", server: false));

    /// <summary>The server certificate most tests use (CN and SAN localhost).</summary>
    public static X509Certificate2 Localhost => s_localhost.Value;

    /// <summary>One of two certificates an SNI test chooses between.</summary>
    public static X509Certificate2 Alpha => s_alpha.Value;

    /// <summary>The other certificate an SNI test chooses between.</summary>
    public static X509Certificate2 Beta => s_beta.Value;

    /// <summary>A client certificate the client-certificate tests' server accepts.</summary>
    public static X509Certificate2 Client => s_client.Value;

    /// <summary>A client certificate the client-certificate tests' server does not know.</summary>
    public static X509Certificate2 Stranger => s_stranger.Value;

    /// <summary>Server options with <see cref="Localhost"/>.</summary>
    public static SslServerAuthenticationOptions Server() => new() { ServerCertificate = Localhost };

    /// <summary>Client options that trust exactly <paramref name="expected"/> (default <see cref="Localhost"/>), by thumbprint.</summary>
    public static SslClientAuthenticationOptions TrustingClient(string targetHost = "localhost", X509Certificate2? expected = null)
    {
        string thumbprint = (expected ?? Localhost).Thumbprint;
        return new SslClientAuthenticationOptions
        {
            TargetHost = targetHost,
            RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null && string.Equals(certificate.GetCertHashString(), thumbprint, StringComparison.OrdinalIgnoreCase),
        };
    }

    /// <summary>Writes <paramref name="certificate"/> and its key as PEM files in a new temporary directory, for openssl.</summary>
    public static (string CertificateFile, string KeyFile) WritePem(X509Certificate2 certificate)
    {
        string directory = Path.Combine(Path.GetTempPath(), "selectreactor-tls-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        string certificateFile = Path.Combine(directory, "cert.pem");
        string keyFile = Path.Combine(directory, "key.pem");
        File.WriteAllText(certificateFile, certificate.ExportCertificatePem());
        using ECDsa key = certificate.GetECDsaPrivateKey()!;
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem(), Encoding.ASCII);
        return (certificateFile, keyFile);
    }

    private static X509Certificate2 Create(string name, bool server)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(name);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], critical: false));
        using X509Certificate2 made = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(made.Export(X509ContentType.Pkcs12), password: null);
    }
}
