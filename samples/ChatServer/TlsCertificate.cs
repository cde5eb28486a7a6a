using System;
using System.IO;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ChatServer;

/// <summary>
/// Loads the server certificate for <c>--tls-cert</c>: PEM (with <c>--tls-key</c>, or the key in the same file) or
/// PKCS#12, and sets a server's TLS options. Every method is kept from being inlined into its caller so that a plain
/// server never loads the TLS and cryptography assemblies: under a tight descriptor limit every assembly counts.
/// </summary>
internal static class TlsCertificate
{
    /// <summary>Loads <see cref="ChatOptions.TlsCertificateFile"/> into <see cref="ChatOptions.TlsCertificate"/>; false with <paramref name="error"/> set when it cannot.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static bool TryLoad(ChatOptions options, out string? error)
    {
        options.TlsCertificate = Load(options.TlsCertificateFile!, options.TlsKeyFile, out error);
        return options.TlsCertificate is not null;
    }

    /// <summary>Serves TLS with the loaded certificate.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Apply(SelectReactor.Net.TcpServerOptions server, ChatOptions options) =>
        server.Tls = new SslServerAuthenticationOptions { ServerCertificate = options.TlsCertificate };

    /// <summary>Returns the certificate with its private key, or null with <paramref name="error"/> set.</summary>
    public static X509Certificate2? Load(string certificateFile, string? keyFile, out string? error)
    {
        error = null;
        try
        {
            X509Certificate2 certificate = Path.GetExtension(certificateFile).ToLowerInvariant() is ".pfx" or ".p12"
                ? X509CertificateLoader.LoadPkcs12FromFile(certificateFile, password: null)
                : X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
            if (!certificate.HasPrivateKey)
            {
                error = $"{certificateFile} has no private key (give it with --tls-key)";
                return null;
            }

            return certificate;
        }
        catch (Exception e) when (e is IOException or CryptographicException or UnauthorizedAccessException or ArgumentException)
        {
            error = $"cannot load the TLS certificate {certificateFile}: {e.Message}";
            return null;
        }
    }
}
