using System;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.IO;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;

namespace SelectReactor.Net;

/// <summary>
/// TLS as a <see cref="ConnectionLayer"/>: an <see cref="SslStream"/> over a <see cref="ReactorDuplexStream"/>, driven
/// entirely by the connection's calls on the reactor thread.
/// </summary>
/// <remarks>
/// <para>
/// <b>How it runs without a thread.</b> The handshake and every read are the <see cref="SslStream"/>'s own async
/// operations, started here and never awaited: their inner reads wait in the duplex stream, and when the socket
/// brings ciphertext (<see cref="OnReceived"/>), feeding it completes the inner read, whose continuation (the
/// <see cref="SslStream"/>'s state machine) runs inline and finishes the operation before the feed returns. The
/// layer then looks at the operation (<see cref="ValueTask{TResult}.IsCompleted"/>), takes its result and goes on. So
/// nothing ever waits, nothing is scheduled, and the pooled state machines of <see cref="SslStream"/>'s reads
/// (<c>PoolingAsyncValueTaskMethodBuilder</c>) are reused: steady state allocates nothing. Writes are synchronous
/// <see cref="SslStream.Write(ReadOnlySpan{byte})"/> calls whose ciphertext lands in the transport's queue.
/// </para>
/// <para>
/// <b>Reading.</b> Once open, the layer keeps one <see cref="SslStream.ReadAsync(Memory{byte}, CancellationToken)"/>
/// outstanding while the handler can take input, decrypting into the reactor thread's one plaintext buffer (safe to
/// share: a read writes into it only as it completes, inside this layer's call, and what it wrote is delivered at
/// once). While the handler cannot take input (paused, or its output is full) the layer stops reading and reports
/// <see cref="HasPendingInput"/>: the <see cref="SslStream"/> may still hold decrypted data or whole records from one
/// socket read, and <see cref="DeliverPending"/> resumes without the socket signalling again.
/// </para>
/// <para>
/// <b>Ending.</b> The peer's close_notify ends the read with 0: end of stream for the handler. The peer's FIN at a
/// record boundary without close_notify is also end of stream (as <see cref="SslStream"/> itself treats it); in the
/// middle of a record it is a truncation and fails the connection. Closing writes close_notify
/// (<see cref="SslStream.ShutdownAsync"/>), which the transport sends before FIN.
/// </para>
/// </remarks>
[SuppressMessage("Design", "CA1001", Justification = "A layer's end is OnClosed, called exactly once by its connection: that is where the SslStream and the stream are disposed.")]
internal sealed class TlsLayer : ConnectionLayer
{
    /// <summary>The plaintext buffer's size: the largest TLS record's plaintext (2^14).</summary>
    internal const int PlaintextBufferSize = 16 * 1024;

    [ThreadStatic]
    private static byte[]? t_plaintext;

    private readonly SslServerAuthenticationOptions? _serverOptions;
    private readonly SslClientAuthenticationOptions? _clientOptions;
    private readonly TimeSpan _handshakeTimeout;
    private ReactorDuplexStream? _stream;
    private SslStream? _ssl;
    private Task? _handshake;
    private IDisposable? _handshakeTimer;
    private TlsRecordFraming _framing;
    private long _startedAt;
    private ValueTask<int> _read;
    private bool _reading;
    private bool _held;
    private byte[]? _heldPlaintext;
    private int _heldCount;
    private bool _open;
    private bool _ended;
    private bool _done;

    private TlsLayer(SslServerAuthenticationOptions? server, SslClientAuthenticationOptions? client, TimeSpan handshakeTimeout)
    {
        _serverOptions = server;
        _clientOptions = client;
        _handshakeTimeout = handshakeTimeout;
    }

    /// <summary>Decrypted input waits for the handler: the layer stopped reading for it, or holds plaintext it could not deliver.</summary>
    public override bool HasPendingInput => _open && !_ended && !_done && (_held || _heldCount > 0);

    /// <summary>The handshake reads whatever the handler wants.</summary>
    public override bool NeedsInput => !_open && !_done;

    /// <summary>Ciphertext buffered in the duplex stream plus plaintext held for the handler, for tests of what a connection holds.</summary>
    internal int RentedBuffers => (_stream?.RentedBuffers ?? 0) + (_heldPlaintext is null ? 0 : 1);

    private static byte[] Plaintext => t_plaintext ??= new byte[PlaintextBufferSize];

    /// <summary>A server-side layer; <paramref name="options"/> is shared by every connection and never changed.</summary>
    public static TlsLayer ForServer(SslServerAuthenticationOptions options, TimeSpan handshakeTimeout) => new(options, null, handshakeTimeout);

    /// <summary>A client-side layer; <paramref name="options"/> is never changed.</summary>
    public static TlsLayer ForClient(SslClientAuthenticationOptions options, TimeSpan handshakeTimeout) => new(null, options, handshakeTimeout);

    public override void OnStart()
    {
        _startedAt = Stopwatch.GetTimestamp();
        _stream = new ReactorDuplexStream(Host);
        _ssl = new SslStream(_stream, leaveInnerStreamOpen: true);
        if (_handshakeTimeout != Timeout.InfiniteTimeSpan)
        {
            _handshakeTimer = Host.Reactor.Schedule(_handshakeTimeout, OnHandshakeTimeout);
        }

        try
        {
            // Runs until its first read waits for the peer (a client has written its ClientHello by then).
            _handshake = _serverOptions is not null
                ? _ssl.AuthenticateAsServerAsync(_serverOptions, CancellationToken.None)
                : _ssl.AuthenticateAsClientAsync(_clientOptions!, CancellationToken.None);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.Security.Authentication.AuthenticationException or IOException or NotSupportedException)
        {
            // Expected for options SslStream refuses (no certificate, say): this connection fails, the next may not.
            HandshakeFailed(e);
            return;
        }

        CheckHandshake();
    }

    public override void OnReceived(ReadOnlySpan<byte> data)
    {
        if (_done || _ended)
        {
            return; // after the peer's close_notify nothing more is read; the connection waits for FIN
        }

        if (_framing.Check(data) is { } bad)
        {
            Failed(new IOException(bad));
            return;
        }

        _stream!.Feed(data);
        if (!_open)
        {
            CheckHandshake();
            return;
        }

        AfterInput();
    }

    public override void OnTransportEnd()
    {
        if (_done || _ended)
        {
            return;
        }

        if (_framing.MidRecord)
        {
            Failed(new IOException("The peer ended the connection in the middle of a TLS record: the stream was truncated."));
            return;
        }

        _stream!.End();
        if (!_open)
        {
            CheckHandshake();
            return;
        }

        AfterInput();
    }

    public override void DeliverPending()
    {
        if (_heldCount > 0)
        {
            if (!Host.CanDeliver)
            {
                return;
            }

            int count = _heldCount;
            _heldCount = 0;
            Host.Deliver(_heldPlaintext.AsSpan(0, count));
            BufferPool.Return(_heldPlaintext!);
            _heldPlaintext = null;
        }

        Pump();
    }

    public override void Write(ReadOnlySpan<byte> data)
    {
        if (_done || !_open)
        {
            return;
        }

        try
        {
            _ssl!.Write(data); // encrypted synchronously, straight into the transport's queue
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException or NotSupportedException)
        {
            // Expected once the TLS session failed (a fatal alert, a read that failed a moment ago).
            Failed(e);
        }
    }

    public override void OnShutdownOutput()
    {
        if (_done || !_open)
        {
            return;
        }

        try
        {
            // close_notify: written synchronously into the transport's queue, which sends it, then FIN.
            Task shutdown = _ssl!.ShutdownAsync();
            if (shutdown.IsFaulted)
            {
                Failed(shutdown.Exception.InnerException ?? shutdown.Exception);
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
        {
            // Expected when the session already failed or was shut: there is no close_notify to send.
            Failed(e);
        }
    }

    public override void OnClosed()
    {
        _done = true;
        _handshakeTimer?.Dispose();
        if (_stream is not null)
        {
            // A read or handshake still waiting for ciphertext ends now, so the SslStream gives its buffer back.
            _stream.End();
        }

        if (_reading)
        {
            _reading = false;
            Observe(_read);
        }

        _ = _handshake?.Exception; // observed: a handshake cut short is no unobserved task exception
        _ssl?.Dispose();
        _stream?.Release();
        if (_heldPlaintext is not null)
        {
            BufferPool.Return(_heldPlaintext);
            _heldPlaintext = null;
            _heldCount = 0;
        }
    }

    private static void Observe(ValueTask<int> read)
    {
        if (!read.IsCompleted)
        {
            return;
        }

        try
        {
            read.GetAwaiter().GetResult(); // gives the pooled state machine back
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            // Expected: the read ended with the connection.
        }
    }

    private void CheckHandshake()
    {
        Task? handshake = _handshake;
        if (_done || _open || handshake is null || !handshake.IsCompleted)
        {
            return;
        }

        if (!handshake.IsCompletedSuccessfully)
        {
            Exception error = handshake.Exception?.InnerException ?? (Exception?)handshake.Exception ?? new IOException("The TLS handshake was canceled.");
            HandshakeFailed(error);
            return;
        }

        _open = true;
        _handshake = null; // the finished handshake's task and state machine are garbage now, not held for the connection's life
        _handshakeTimer?.Dispose();
        _handshakeTimer = null;
        SslStream ssl = _ssl!;
        var info = new TlsConnectionInfo(
            ssl.SslProtocol,
            ssl.NegotiatedCipherSuite,
            ssl.NegotiatedApplicationProtocol,
            ssl.RemoteCertificate as X509Certificate2,
            ssl.TargetHostName,
            Stopwatch.GetElapsedTime(_startedAt));
        TcpConnection connection = Host.Connection;
        connection.Tls = info;
        TlsLog.HandshakeDone(Host.Logger, connection, info);
        Host.Open();
        if (connection.IsClosed)
        {
            return;
        }

        // Application data that came with the end of the handshake is already here: read it now.
        Pump();
    }

    /// <summary>Keeps a read outstanding while the handler can take input, delivering what completes synchronously.</summary>
    private void Pump()
    {
        while (!_reading && !_ended && !_done)
        {
            if (!Host.CanDeliver)
            {
                _held = true; // the SslStream may hold more; DeliverPending goes on from here
                return;
            }

            _held = false;
            ValueTask<int> read;
            try
            {
                read = _ssl!.ReadAsync(Plaintext, CancellationToken.None);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException or NotSupportedException)
            {
                // Expected when the session already failed.
                Failed(e);
                return;
            }

            if (!read.IsCompleted)
            {
                _read = read; // waits for ciphertext: completed from OnReceived or OnTransportEnd
                _reading = true;
                return;
            }

            if (!Completed(read))
            {
                return;
            }
        }
    }

    /// <summary>New ciphertext (or the end of it) went into the stream: take the read it completed, and go on reading.</summary>
    private void AfterInput()
    {
        if (_reading)
        {
            if (!_read.IsCompleted)
            {
                return; // a partial record: the SslStream waits for the rest
            }

            _reading = false;
            if (!Completed(_read))
            {
                return;
            }
        }

        Pump();
    }

    /// <summary>Delivers a completed read's plaintext (or the end of stream). False when reading cannot go on.</summary>
    private bool Completed(ValueTask<int> read)
    {
        int count;
        try
        {
            count = read.GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException or NotSupportedException or System.Security.Authentication.AuthenticationException)
        {
            // Expected for a record that does not decrypt, an alert from the peer, a refused renegotiation.
            Failed(e);
            return false;
        }

        if (count == 0)
        {
            _ended = true; // close_notify, or FIN at a record boundary
            Host.DeliverEndOfStream();
            return false;
        }

        if (Host.Connection.IsClosed)
        {
            return false;
        }

        if (Host.CanDeliver)
        {
            Host.Deliver(Plaintext.AsSpan(0, count));
            return !_done;
        }

        // The handler became unable to take input while this read was outstanding: keep its plaintext (the buffer is
        // the thread's, shared) until DeliverPending.
        _heldPlaintext = BufferPool.Rent(count);
        Plaintext.AsSpan(0, count).CopyTo(_heldPlaintext);
        _heldCount = count;
        return false;
    }

    private void OnHandshakeTimeout()
    {
        if (_open || _done)
        {
            return;
        }

        TlsLog.HandshakeTimedOut(Host.Logger, Host.Connection, _handshakeTimeout);
        _done = true;
        Host.Fail(ConnectionCloseReason.TlsHandshakeFailed, new TimeoutException(
            $"The TLS handshake did not complete within {_handshakeTimeout.TotalSeconds:0.###} s (TlsHandshakeTimeout)."));
    }

    private void HandshakeFailed(Exception error)
    {
        if (_done)
        {
            return;
        }

        _done = true;
        TlsLog.HandshakeFailed(Host.Logger, Host.Connection, error);
        Host.Fail(ConnectionCloseReason.TlsHandshakeFailed, error);
    }

    private void Failed(Exception error)
    {
        if (!_open)
        {
            HandshakeFailed(error);
            return;
        }

        if (_done)
        {
            return;
        }

        _done = true;
        TlsLog.StreamFailed(Host.Logger, Host.Connection, error);
        Host.Fail(ConnectionCloseReason.TlsError, error);
    }
}
