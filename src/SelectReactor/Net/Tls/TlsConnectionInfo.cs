using System;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace SelectReactor.Net;

/// <summary>
/// What a TLS handshake agreed on: <see cref="TcpConnection.Tls"/> of a connection made with
/// <see cref="TcpServerOptions.Tls"/> or <see cref="TcpConnectorOptions.Tls"/>, set before
/// <see cref="ConnectionHandler.OnConnected"/>. Read-only and immutable; safe to read from any thread.
/// </summary>
public sealed class TlsConnectionInfo
{
    internal TlsConnectionInfo(SslProtocols protocol, TlsCipherSuite cipherSuite, SslApplicationProtocol applicationProtocol, X509Certificate2? remoteCertificate, string hostName, TimeSpan handshakeDuration)
    {
        Protocol = protocol;
        CipherSuite = cipherSuite;
        ApplicationProtocol = applicationProtocol;
        RemoteCertificate = remoteCertificate;
        HostName = hostName;
        HandshakeDuration = handshakeDuration;
    }

    /// <summary>The protocol version negotiated, such as <see cref="SslProtocols.Tls13"/>.</summary>
    public SslProtocols Protocol { get; }

    /// <summary>The cipher suite negotiated, such as <see cref="TlsCipherSuite.TLS_AES_256_GCM_SHA384"/>.</summary>
    public TlsCipherSuite CipherSuite { get; }

    /// <summary>The ALPN protocol agreed on, or <see langword="default"/> (empty) when the peers did not negotiate one.</summary>
    public SslApplicationProtocol ApplicationProtocol { get; }

    /// <summary>
    /// The peer's certificate: the server's on a client connection; on a server connection the client's, when
    /// <see cref="SslServerAuthenticationOptions.ClientCertificateRequired"/> asked for one and it sent one, otherwise
    /// <see langword="null"/>. It stays valid after the connection closes; disposing it is the caller's choice.
    /// </summary>
    public X509Certificate2? RemoteCertificate { get; }

    /// <summary>
    /// The host name of the handshake: on a server, the name the client asked for with SNI (empty if it sent none); on
    /// a client, the target host it validated the server's certificate against.
    /// </summary>
    public string HostName { get; }

    /// <summary>From the moment the socket was connected to the end of the handshake.</summary>
    public TimeSpan HandshakeDuration { get; }

    /// <inheritdoc />
    public override string ToString() =>
        $"{Protocol} {CipherSuite}{(ApplicationProtocol.Protocol.IsEmpty ? string.Empty : " ALPN " + ApplicationProtocol)}{(HostName.Length == 0 ? string.Empty : " host " + HostName)}";
}
