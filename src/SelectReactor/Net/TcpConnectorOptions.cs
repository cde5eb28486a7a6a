using System;
using System.Net.Security;
using System.Threading;

namespace SelectReactor.Net;

/// <summary>Settings for <see cref="TcpConnector.Connect"/>.</summary>
public sealed class TcpConnectorOptions
{
    private TimeSpan _connectTimeout = TimeSpan.FromSeconds(10);
    private TcpConnectionOptions _connection = new();
    private TimeSpan _tlsHandshakeTimeout = TimeSpan.FromSeconds(10);
    private object? _tls; // an SslClientAuthenticationOptions; see HasTls

    /// <summary>How long name resolution plus the connect (over every resolved address) may take. Default 10 seconds.</summary>
    public TimeSpan ConnectTimeout
    {
        get => _connectTimeout;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            _connectTimeout = value;
        }
    }

    /// <summary>Disables Nagle's algorithm on TCP sockets (not on Unix domain sockets). Default <see langword="true"/>.</summary>
    public bool NoDelay { get; set; } = true;

    /// <summary>The established connection's limits.</summary>
    public TcpConnectionOptions Connection
    {
        get => _connection;
        set => _connection = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>
    /// Speaks TLS on the connection with these options, or <see langword="null"/> (default) for plain TCP.
    /// </summary>
    /// <remarks>
    /// .NET's own options: <see cref="SslClientAuthenticationOptions.TargetHost"/> (for SNI and for validating the
    /// server's certificate; when empty and the end point is a <see cref="System.Net.DnsEndPoint"/>, its host name),
    /// <see cref="SslClientAuthenticationOptions.RemoteCertificateValidationCallback"/>,
    /// <see cref="SslClientAuthenticationOptions.ClientCertificates"/>,
    /// <see cref="SslClientAuthenticationOptions.ApplicationProtocols"/> for ALPN,
    /// <see cref="SslClientAuthenticationOptions.EnabledSslProtocols"/>. The handler hears
    /// <see cref="ConnectionHandler.OnConnected"/> once the handshake is done (bytes sent before are queued and
    /// encrypted then); a server certificate that does not validate, or any other failed handshake, ends the
    /// connection with <see cref="ConnectionCloseReason.TlsHandshakeFailed"/> and the
    /// <see cref="System.Security.Authentication.AuthenticationException"/>. The object is never changed; callbacks
    /// run on the reactor thread.
    /// </remarks>
    public SslClientAuthenticationOptions? Tls
    {
        get => (SslClientAuthenticationOptions?)_tls;
        set => _tls = value;
    }

    /// <summary><see langword="true"/> when <see cref="Tls"/> is set; read without loading the TLS assemblies (see <see cref="TcpServerOptions"/>).</summary>
    internal bool HasTls => _tls is not null;

    /// <summary>
    /// How long the TLS handshake may take once connected, before the connection is closed with
    /// <see cref="ConnectionCloseReason.TlsHandshakeFailed"/> and a <see cref="TimeoutException"/>. Default 10
    /// seconds; <see cref="Timeout.InfiniteTimeSpan"/> means no limit. Only used with <see cref="Tls"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Zero or negative (other than infinite).</exception>
    public TimeSpan TlsHandshakeTimeout
    {
        get => _tlsHandshakeTimeout;
        set => _tlsHandshakeTimeout = OptionChecks.PositiveOrInfinite(value, nameof(TlsHandshakeTimeout), "10 s");
    }
}
