using System;
using System.Net.Security;
using System.Net.Sockets;
using System.Threading;

namespace SelectReactor.Net;

/// <summary>Settings for a <see cref="TcpServer"/>. Read when the server starts.</summary>
public sealed class TcpServerOptions
{
    private int _backlog = 4096;
    private int _maxConnections = 10_000;
    private int _acceptBatch = 64;
    private long _maxPendingSendBytesTotal = 256L * 1024 * 1024;
    private static readonly TimeSpan DefaultInitialAcceptBackoff = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan DefaultMaxAcceptBackoff = TimeSpan.FromSeconds(1);
    private TcpConnectionOptions _connection = new();
    private TimeSpan _tlsHandshakeTimeout = TimeSpan.FromSeconds(10);
    private object? _tls; // an SslServerAuthenticationOptions; see HasTls
    private TimeSpan _initialAcceptBackoff = DefaultInitialAcceptBackoff;
    private TimeSpan _maxAcceptBackoff = DefaultMaxAcceptBackoff;

    /// <summary>
    /// The listen backlog: connections the kernel completes before they are accepted. Default 4,096 (the kernel caps
    /// it at <c>net.core.somaxconn</c>); with 512, opening 10,000 connections at once overflowed the queue thousands of
    /// times and took five times longer.
    /// </summary>
    public int Backlog
    {
        get => _backlog;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _backlog = value;
        }
    }

    /// <summary>
    /// The most connections open at once. Beyond it, new sockets are accepted and closed at once (counted in
    /// <see cref="TcpServer.RejectedCount"/>). Default 10,000. <see cref="int.MaxValue"/> means no limit, which lets
    /// an untrusted peer exhaust descriptors and memory.
    /// </summary>
    public int MaxConnections
    {
        get => _maxConnections;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _maxConnections = value;
        }
    }

    /// <summary>The most connections accepted per readiness of the listener, so one busy listener cannot starve the loop. Default 64.</summary>
    public int AcceptBatch
    {
        get => _acceptBatch;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _acceptBatch = value;
        }
    }

    /// <summary>Disables Nagle's algorithm on accepted TCP sockets. Default <see langword="true"/>: request/response protocols want it.</summary>
    public bool NoDelay { get; set; } = true;

    /// <summary>The linger option for accepted sockets, or <see langword="null"/> (default) for the system's.</summary>
    public LingerOption? Linger { get; set; }

    /// <summary>
    /// The first pause after accept runs out of descriptors or buffers; it doubles up to <see cref="MaxAcceptBackoff"/>.
    /// Default 50 ms. Positive (zero would turn the back-off into a spin) and at most <see cref="ReactorOptions.MaxTimeout"/>;
    /// at most <see cref="MaxAcceptBackoff"/>, which the server checks when it is created.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero, negative or above <see cref="ReactorOptions.MaxTimeout"/>.</exception>
    public TimeSpan InitialAcceptBackoff
    {
        get => _initialAcceptBackoff;
        set => _initialAcceptBackoff = CheckBackoff(value, nameof(InitialAcceptBackoff), DefaultInitialAcceptBackoff);
    }

    /// <summary>
    /// The longest pause after accept runs out of descriptors or buffers. Default 1 second. Positive and at most
    /// <see cref="ReactorOptions.MaxTimeout"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero, negative or above <see cref="ReactorOptions.MaxTimeout"/>.</exception>
    public TimeSpan MaxAcceptBackoff
    {
        get => _maxAcceptBackoff;
        set => _maxAcceptBackoff = CheckBackoff(value, nameof(MaxAcceptBackoff), DefaultMaxAcceptBackoff);
    }

    /// <summary>
    /// The server-wide budget for pending output: the sum of what all its connections hold unsent once each flush is
    /// done. When a connection's output takes the sum past it, the server aborts its connection that holds the most
    /// (on the same reactor), with <see cref="ConnectionCloseReason.SendBufferOverflow"/> and a Warning, until the sum
    /// is back within it; the peer that reads slowest pays, not the one that happened to send. Default 256 MiB;
    /// <see cref="long.MaxValue"/> means no budget, which lets non-reading peers pin up to
    /// <see cref="MaxConnections"/> × <see cref="TcpConnectionOptions.MaxPendingSendBytes"/> of memory.
    /// </summary>
    /// <remarks>
    /// Output that leaves within the callback that wrote it is never counted, so peers that keep up cost nothing
    /// here; a connection that stops reading holds at most about <see cref="TcpConnectionOptions.SendHighWatermark"/>
    /// (more if its handler ignores <see cref="ConnectionHandler.OnSendBufferFull"/>). The live sum is
    /// <see cref="TcpServer.PendingSendBytes"/>.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">Less than 1.</exception>
    public long MaxPendingSendBytesTotal
    {
        get => _maxPendingSendBytesTotal;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _maxPendingSendBytesTotal = value;
        }
    }

    /// <summary>The limits of every accepted connection.</summary>
    public TcpConnectionOptions Connection
    {
        get => _connection;
        set => _connection = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>
    /// Serves TLS on every accepted connection with these options, or <see langword="null"/> (default) for plain TCP.
    /// </summary>
    /// <remarks>
    /// <para>
    /// .NET's own options: a <see cref="SslServerAuthenticationOptions.ServerCertificate"/> (with its private key) or
    /// <see cref="SslServerAuthenticationOptions.ServerCertificateContext"/>, or a
    /// <see cref="SslServerAuthenticationOptions.ServerCertificateSelectionCallback"/> that picks one by the SNI host
    /// name; <see cref="SslServerAuthenticationOptions.ApplicationProtocols"/> for ALPN;
    /// <see cref="SslServerAuthenticationOptions.ClientCertificateRequired"/> and
    /// <see cref="SslServerAuthenticationOptions.RemoteCertificateValidationCallback"/> for client certificates;
    /// <see cref="SslServerAuthenticationOptions.EnabledSslProtocols"/> (the system's default when none). Handlers
    /// see plaintext only; <see cref="ConnectionHandler.OnConnected"/> runs once the handshake is done, and
    /// <see cref="TcpConnection.Tls"/> says what it agreed on. A handshake that fails or takes longer than
    /// <see cref="TlsHandshakeTimeout"/> closes that connection with
    /// <see cref="ConnectionCloseReason.TlsHandshakeFailed"/> (logged at Debug, event 240/241).
    /// </para>
    /// <para>
    /// Read when the server is constructed, into a copy: the object is never changed, and changing it later has no
    /// effect. The copy refuses client-initiated renegotiation (<see cref="SslServerAuthenticationOptions.AllowRenegotiation"/>
    /// is ignored: renegotiation would let a client make the server do a handshake's work at will), and a plain
    /// <see cref="SslServerAuthenticationOptions.ServerCertificate"/> is turned into a certificate context once, so
    /// that handshakes do not rebuild its chain. Selection callbacks run on the reactor thread: keep them quick.
    /// </para>
    /// </remarks>
    public SslServerAuthenticationOptions? Tls
    {
        get => (SslServerAuthenticationOptions?)_tls;
        set => _tls = value;
    }

    /// <summary>
    /// <see langword="true"/> when <see cref="Tls"/> is set. Read without touching the TLS types, so that a plain server
    /// never loads the TLS assemblies (a few descriptors each, which count under a tight limit).
    /// </summary>
    internal bool HasTls => _tls is not null;

    /// <summary>
    /// How long a TLS handshake may take, from accept to done, before the connection is closed with
    /// <see cref="ConnectionCloseReason.TlsHandshakeFailed"/> and a <see cref="TimeoutException"/>. Default 10 seconds.
    /// <see cref="Timeout.InfiniteTimeSpan"/> means no limit, which lets a client that sends half a handshake hold a
    /// connection forever. Only used with <see cref="Tls"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Zero or negative (other than infinite).</exception>
    public TimeSpan TlsHandshakeTimeout
    {
        get => _tlsHandshakeTimeout;
        set => _tlsHandshakeTimeout = OptionChecks.PositiveOrInfinite(value, nameof(TlsHandshakeTimeout), "10 s");
    }

    /// <summary>Checks what no single setter can: the back-off bounds against each other, and the connection options.</summary>
    /// <exception cref="ArgumentException">The options are inconsistent; the message gives the values and the defaults.</exception>
    internal TcpServerOptions Validated()
    {
        if (InitialAcceptBackoff > MaxAcceptBackoff)
        {
            throw new ArgumentException(
                $"TcpServerOptions.InitialAcceptBackoff ({InitialAcceptBackoff.TotalMilliseconds} ms) must not exceed MaxAcceptBackoff " +
                $"({MaxAcceptBackoff.TotalMilliseconds} ms); the defaults are {DefaultInitialAcceptBackoff.TotalMilliseconds} ms and {DefaultMaxAcceptBackoff.TotalMilliseconds} ms.");
        }

        Connection.Validated();
        return this;
    }

    private static TimeSpan CheckBackoff(TimeSpan value, string name, TimeSpan defaultValue)
    {
        if (value <= TimeSpan.Zero || value > ReactorOptions.MaxTimeout)
        {
            throw new ArgumentOutOfRangeException(
                name,
                value,
                $"{name} must be positive (zero would make the back-off a spin) and at most {ReactorOptions.MaxTimeout}; it was {value}. The default is {defaultValue.TotalMilliseconds} ms.");
        }

        return value;
    }
}
