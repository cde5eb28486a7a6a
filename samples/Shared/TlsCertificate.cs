using System;
using System.Diagnostics.CodeAnalysis;
using System.IO;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using SelectReactor.Net;

namespace SelectReactor.Samples;

/// <summary>
/// The samples' <c>--tls-cert FILE [--tls-key FILE]</c>: a server certificate from PEM (the key in the same file or in
/// <c>--tls-key</c>) or PKCS#12 (.pfx/.p12, no password). One source, linked into EchoServer and ChatServer.
/// </summary>
/// <remarks>
/// No method is inlined into its caller, and the certificate travels as <see cref="object"/>, so that a plain server
/// never loads the TLS and cryptography assemblies: under a tight descriptor limit every assembly counts (each keeps
/// descriptors open).
/// </remarks>
internal static class TlsCertificate
{
    /// <summary>Loads the certificate and serves TLS with it on <paramref name="server"/>; false with <paramref name="error"/> set when it cannot.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static bool TryConfigure(TcpServerOptions server, string certificateFile, string? keyFile, out string? error)
    {
        if (!TryLoad(certificateFile, keyFile, out object? certificate, out error))
        {
            return false;
        }

        Configure(server, certificate);
        return true;
    }

    /// <summary>Loads the certificate with its private key (an <see cref="X509Certificate2"/>); false with <paramref name="error"/> set when it cannot.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static bool TryLoad(string certificateFile, string? keyFile, [NotNullWhen(true)] out object? certificate, out string? error)
    {
        certificate = null;
        error = null;
        try
        {
            X509Certificate2 loaded = Path.GetExtension(certificateFile).ToLowerInvariant() is ".pfx" or ".p12"
                ? X509CertificateLoader.LoadPkcs12FromFile(certificateFile, password: null)
                : X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
            if (!loaded.HasPrivateKey)
            {
                error = $"{certificateFile} has no private key (give it with --tls-key)";
                return false;
            }

            certificate = loaded;
            return true;
        }
        catch (Exception e) when (e is IOException or CryptographicException or UnauthorizedAccessException or ArgumentException)
        {
            error = $"cannot load the TLS certificate {certificateFile}: {e.Message}";
            return false;
        }
    }

    /// <summary>Serves TLS on <paramref name="server"/> with a certificate from <see cref="TryLoad"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Configure(TcpServerOptions server, object certificate) =>
        server.Tls = new SslServerAuthenticationOptions { ServerCertificate = (X509Certificate2)certificate };
}
