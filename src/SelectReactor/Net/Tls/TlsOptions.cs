using System;
using System.Net;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;

namespace SelectReactor.Net;

/// <summary>
/// Turns the user's <see cref="SslServerAuthenticationOptions"/> and <see cref="SslClientAuthenticationOptions"/>
/// into what the layers use. The user's objects are never changed: where something must differ, a copy is made.
/// </summary>
internal static class TlsOptions
{
    /// <summary>
    /// The layer factory of a server with <see cref="TcpServerOptions.Tls"/>: the options prepared once, a layer per
    /// connection. Not inlined, like <see cref="ClientLayer"/>: only servers and clients that use TLS load its assemblies.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Func<ConnectionLayer> ServerLayerFactory(TcpServerOptions options)
    {
        SslServerAuthenticationOptions prepared = PrepareServer(options.Tls!);
        TimeSpan handshakeTimeout = options.TlsHandshakeTimeout;
        return () => TlsLayer.ForServer(prepared, handshakeTimeout);
    }

    /// <summary>The layer of a connection made with <see cref="TcpConnectorOptions.Tls"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ConnectionLayer ClientLayer(TcpConnectorOptions options, EndPoint remote) =>
        TlsLayer.ForClient(ForClient(options.Tls!, remote), options.TlsHandshakeTimeout);

    /// <summary>
    /// The server's options, prepared once per server: a copy that refuses renegotiation and, for a plain
    /// <see cref="SslServerAuthenticationOptions.ServerCertificate"/>, carries a certificate context built once, so a
    /// handshake does not build the certificate's chain again for every connection (what Kestrel does too).
    /// </summary>
    /// <exception cref="ArgumentException">The options name no certificate, context or selection callback, or a certificate without its private key.</exception>
    public static SslServerAuthenticationOptions PrepareServer(SslServerAuthenticationOptions options)
    {
        if (options.ServerCertificate is null && options.ServerCertificateContext is null && options.ServerCertificateSelectionCallback is null)
        {
            throw new ArgumentException("TcpServerOptions.Tls needs a ServerCertificate, a ServerCertificateContext or a ServerCertificateSelectionCallback.", nameof(options));
        }

        SslServerAuthenticationOptions copy = Copy(options);

        // Client-initiated renegotiation costs the server a handshake's public-key work for a few bytes from the
        // client: an amplification worth refusing. TLS 1.3 has none; TLS 1.2 clients rarely need it.
        copy.AllowRenegotiation = false;
        if (copy.ServerCertificateContext is null && copy.ServerCertificateSelectionCallback is null
            && copy.ServerCertificate is X509Certificate2 certificate)
        {
            if (!certificate.HasPrivateKey)
            {
                // Known now, and otherwise only seen as every handshake failing (logged at Debug: peers can cause those).
                throw new ArgumentException(
                    $"TcpServerOptions.Tls: the server certificate '{certificate.Subject}' has no private key, so no handshake could succeed. Load it with its key (for PEM files, X509Certificate2.CreateFromPemFile(certPath, keyPath)).",
                    nameof(options));
            }

            // offline: the chain is completed from local stores only; a constructor does no network I/O.
            copy.ServerCertificateContext = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true);
            copy.ServerCertificate = null;
        }

        return copy;
    }

    /// <summary>
    /// The client's options for one connection to <paramref name="remote"/>: the user's own, or, when they name no
    /// <see cref="SslClientAuthenticationOptions.TargetHost"/> and the connection is to a host name, a copy naming it
    /// (for SNI and for validating the server's certificate).
    /// </summary>
    public static SslClientAuthenticationOptions ForClient(SslClientAuthenticationOptions options, EndPoint remote)
    {
        if (!string.IsNullOrEmpty(options.TargetHost) || remote is not DnsEndPoint dns)
        {
            return options;
        }

        SslClientAuthenticationOptions copy = Copy(options);
        copy.TargetHost = dns.Host;
        return copy;
    }

    /// <summary>Every settable property (a test checks none is missed as the runtime adds some).</summary>
    internal static SslServerAuthenticationOptions Copy(SslServerAuthenticationOptions options)
    {
        var copy = new SslServerAuthenticationOptions
        {
            AllowRenegotiation = options.AllowRenegotiation,
            AllowTlsResume = options.AllowTlsResume,
            ClientCertificateRequired = options.ClientCertificateRequired,
            ApplicationProtocols = options.ApplicationProtocols,
            RemoteCertificateValidationCallback = options.RemoteCertificateValidationCallback,
            ServerCertificateSelectionCallback = options.ServerCertificateSelectionCallback,
            ServerCertificate = options.ServerCertificate,
            ServerCertificateContext = options.ServerCertificateContext,
            EnabledSslProtocols = options.EnabledSslProtocols,
            CertificateRevocationCheckMode = options.CertificateRevocationCheckMode,
            EncryptionPolicy = options.EncryptionPolicy,
            CipherSuitesPolicy = options.CipherSuitesPolicy,
            CertificateChainPolicy = options.CertificateChainPolicy,
        };
        if (OperatingSystem.IsLinux() || OperatingSystem.IsWindows())
        {
            copy.AllowRsaPssPadding = options.AllowRsaPssPadding;
            copy.AllowRsaPkcs1Padding = options.AllowRsaPkcs1Padding;
        }

        return copy;
    }

    /// <summary>Every settable property (a test checks none is missed as the runtime adds some).</summary>
    internal static SslClientAuthenticationOptions Copy(SslClientAuthenticationOptions options)
    {
        var copy = new SslClientAuthenticationOptions
        {
            AllowRenegotiation = options.AllowRenegotiation,
            AllowTlsResume = options.AllowTlsResume,
            LocalCertificateSelectionCallback = options.LocalCertificateSelectionCallback,
            RemoteCertificateValidationCallback = options.RemoteCertificateValidationCallback,
            ApplicationProtocols = options.ApplicationProtocols,
            TargetHost = options.TargetHost,
            ClientCertificates = options.ClientCertificates,
            ClientCertificateContext = options.ClientCertificateContext,
            CertificateRevocationCheckMode = options.CertificateRevocationCheckMode,
            EncryptionPolicy = options.EncryptionPolicy,
            EnabledSslProtocols = options.EnabledSslProtocols,
            CipherSuitesPolicy = options.CipherSuitesPolicy,
            CertificateChainPolicy = options.CertificateChainPolicy,
        };
        if (OperatingSystem.IsLinux() || OperatingSystem.IsWindows())
        {
            copy.AllowRsaPssPadding = options.AllowRsaPssPadding;
            copy.AllowRsaPkcs1Padding = options.AllowRsaPkcs1Padding;
        }

        return copy;
    }
}
