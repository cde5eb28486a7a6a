using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Net.Tls;

/// <summary>
/// What a TLS port meets on the internet: garbage, plaintext, half handshakes, the wrong protocol, truncated, oversized
/// and corrupted records, renegotiation. Each closes only its own connection, quickly, with a TLS close reason and the
/// cause, logged once at Debug; the server goes on serving.
/// </summary>
public sealed class TlsHostileInputTests
{
    [Theory]
    [InlineData("garbage")]
    [InlineData("plaintext")]
    public void BytesThatAreNotTls_FailTheHandshakeAtOnce_LoggedOnceAtDebug(string kind)
    {
        using var server = new HostileServer();
        byte[] bytes = kind == "garbage"
            ? Enumerable.Range(0, 300).Select(i => (byte)(i * 7 + 1)).ToArray()
            : "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"u8.ToArray();
        using Socket raw = Loopback.Connect(server.Harness.EndPoint, resetOnDispose: true);

        raw.Send(bytes);
        (ConnectionCloseReason reason, Exception? error) = server.NextClose();
        int end = ReceiveUntilEnd(raw);

        reason.Should().Be(ConnectionCloseReason.TlsHandshakeFailed);
        error.Should().BeOfType<IOException>().Which.Message.Should().Contain("not a TLS record");
        end.Should().Be(0, "the server closed the connection (FIN, not a reset)");
        server.AssertLoggedOnceAtDebug(240);
        server.AssertStillServes();
    }

    [Fact]
    public void ClientHelloThenNothing_TimesOutWithTheHandshakeTimeout()
    {
        using var server = new HostileServer(handshakeTimeout: TimeSpan.FromMilliseconds(300));
        using Socket raw = Loopback.Connect(server.Harness.EndPoint, resetOnDispose: true);

        raw.Send(ClientHello());
        (ConnectionCloseReason reason, Exception? error) = server.NextClose();

        reason.Should().Be(ConnectionCloseReason.TlsHandshakeFailed);
        error.Should().BeOfType<TimeoutException>().Which.Message.Should().Contain("TlsHandshakeTimeout");
        server.AssertLoggedOnceAtDebug(241);
        server.AssertStillServes();
    }

    [Fact]
    public void ProtocolMismatch_FailsTheHandshake_WithTheAuthenticationException()
    {
        SslServerAuthenticationOptions tls13Only = TestCertificates.Server();
        tls13Only.EnabledSslProtocols = SslProtocols.Tls13;
        using var server = new HostileServer(tls13Only);
        SslClientAuthenticationOptions tls12Only = TestCertificates.TrustingClient();
        tls12Only.EnabledSslProtocols = SslProtocols.Tls12;

        Action connect = () => TlsTestClient.Connect(server.Harness.EndPoint, tls12Only).Dispose();

        connect.Should().Throw<Exception>().Which.Should().Match(e => e is AuthenticationException || e is IOException);
        (ConnectionCloseReason reason, Exception? error) = server.NextClose();
        reason.Should().Be(ConnectionCloseReason.TlsHandshakeFailed);
        error.Should().BeAssignableTo<AuthenticationException>();
        server.AssertLoggedOnceAtDebug(240);
        server.AssertStillServes();
    }

    [Fact]
    public void FinInTheMiddleOfARecord_IsATruncation_TlsError()
    {
        using var server = new HostileServer();
        using var tls = TlsTestClient.Connect(server.Harness.EndPoint, TestCertificates.TrustingClient());
        tls.Send("ok"u8);
        tls.ReadExactly(2);

        tls.Socket.Send([23, 3, 3, 0, 100, 1, 2, 3, 4, 5]); // a record header promising 100 bytes, and 5 of them
        tls.Socket.Shutdown(SocketShutdown.Send);
        (ConnectionCloseReason reason, Exception? error) = server.NextClose();

        reason.Should().Be(ConnectionCloseReason.TlsError);
        error.Should().BeOfType<IOException>().Which.Message.Should().Contain("truncated");
        server.AssertLoggedOnceAtDebug(242);
    }

    [Fact]
    public void OversizedRecord_FailsAtItsHeader_WithoutWaitingForItsBody()
    {
        using var server = new HostileServer();
        using var tls = TlsTestClient.Connect(server.Harness.EndPoint, TestCertificates.TrustingClient());
        tls.Send("ok"u8);
        tls.ReadExactly(2);

        tls.Socket.Send([23, 3, 3, 0xFF, 0xFF]); // 65,535 bytes announced; none sent, no FIN
        (ConnectionCloseReason reason, Exception? error) = server.NextClose();

        reason.Should().Be(ConnectionCloseReason.TlsError);
        error.Should().BeOfType<IOException>().Which.Message.Should().Contain("65535");
    }

    [Fact]
    public void RecordThatDoesNotDecrypt_IsATlsError()
    {
        using var server = new HostileServer();
        using var tls = TlsTestClient.Connect(server.Harness.EndPoint, TestCertificates.TrustingClient());
        tls.Send("ok"u8);
        tls.ReadExactly(2);
        byte[] forged = new byte[5 + 40];
        forged[0] = 23;
        forged[1] = 3;
        forged[2] = 3;
        forged[4] = 40;
        new Random(3).NextBytes(forged.AsSpan(5));

        tls.Socket.Send(forged);
        (ConnectionCloseReason reason, Exception? error) = server.NextClose();

        reason.Should().Be(ConnectionCloseReason.TlsError);
        error.Should().BeOfType<IOException>();
        server.AssertLoggedOnceAtDebug(242);
    }

    [Fact]
    public void PeerThatConnectsAndCloses_CostsOneDebugLineAndNothingElse()
    {
        using var server = new HostileServer();

        using (Socket raw = Loopback.Connect(server.Harness.EndPoint, resetOnDispose: true))
        {
            raw.Shutdown(SocketShutdown.Send); // a TCP health check: connect, FIN
            ReceiveUntilEnd(raw);
        }

        (ConnectionCloseReason reason, Exception? error) = server.NextClose();
        reason.Should().Be(ConnectionCloseReason.TlsHandshakeFailed);
        error.Should().BeOfType<IOException>();
        server.AssertLoggedOnceAtDebug(240);
    }

    [OpenSslFact]
    public void ClientInitiatedRenegotiation_IsRefused_ByClosingTheConnection()
    {
        SslServerAuthenticationOptions options = TestCertificates.Server();
        options.AllowRenegotiation = true; // the server refuses anyway: renegotiation is a client-driven amplification
        using var server = new HostileServer(options);

        // s_client sends "hello", then on a line "R" starts a TLS 1.2 renegotiation, then tries to send more.
        (_, string stdout, string stderr) = OpenSslClient.Run(server.Harness.EndPoint, "-tls1_2", ["hello", "R", "after"], TimeSpan.FromMilliseconds(300));
        (ConnectionCloseReason reason, Exception? error) = server.NextClose();

        stdout.Should().Contain("hello", "the echo worked before");
        (stdout + stderr).Should().Contain("RENEGOTIATING");
        stdout.Should().NotContain("after", "the connection ended at the renegotiation: no second handshake, nothing after");
        reason.Should().Be(ConnectionCloseReason.TlsError);
        error!.Message.Should().Contain("renegotiation");
        server.AssertStillServes();
    }

    /// <summary>A real ClientHello, as .NET's SslStream writes it, captured from a stream that never answers.</summary>
    private static byte[] ClientHello()
    {
        var capture = new CaptureStream();
        var ssl = new SslStream(capture);
        _ = ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" });
        Wait.Until(() => capture.Written.Length > 0, "the ClientHello was written");
        return capture.Written.ToArray();
    }

    private static int ReceiveUntilEnd(Socket socket)
    {
        byte[] buffer = new byte[4096];
        int n;
        while ((n = socket.Receive(buffer)) > 0)
        {
        }

        return n;
    }

    /// <summary>A TLS echo server that records how connections end and what it logs.</summary>
    private sealed class HostileServer : IDisposable
    {
        private readonly BlockingCollection<(ConnectionCloseReason, Exception?)> _closes = new();

        public HostileServer(SslServerAuthenticationOptions? tls = null, TimeSpan? handshakeTimeout = null)
        {
            var options = new TcpServerOptions { Tls = tls ?? TestCertificates.Server() };
            if (handshakeTimeout is { } timeout)
            {
                options.TlsHandshakeTimeout = timeout;
            }

            var handler = new DelegateHandler { Closed = (_, reason, error) => _closes.Add((reason, error)) };
            Harness = new ServerHarness(() => handler, options, reactorOptions: new ReactorOptions { LoggerFactory = Logs });
        }

        public CapturingLoggerProvider Logs { get; } = new();

        public ServerHarness Harness { get; }

        public (ConnectionCloseReason Reason, Exception? Error) NextClose() =>
            _closes.TryTake(out var close, Wait.Generous) ? close : throw new TimeoutException("No connection closed.");

        /// <summary>The failure was logged exactly once, at Debug, and nothing at Warning or above.</summary>
        public void AssertLoggedOnceAtDebug(int eventId)
        {
            Logs.Entries.Where(e => e.EventId == eventId).Should().ContainSingle().Which.Level.Should().Be(LogLevel.Debug);
            Logs.Entries.Where(e => e.Level >= LogLevel.Warning).Should().BeEmpty("a peer's bad handshake must not let it write warnings at will");
        }

        /// <summary>A well-behaved client is still served after the hostile one.</summary>
        public void AssertStillServes()
        {
            using var tls = TlsTestClient.Connect(Harness.EndPoint, TestCertificates.TrustingClient());
            tls.Send("still here"u8);
            Encoding.ASCII.GetString(tls.ReadExactly(10)).Should().Be("still here");
        }

        public void Dispose()
        {
            Harness.Dispose();
            _closes.Dispose();
        }
    }

    /// <summary>Keeps what is written; reads never complete.</summary>
    private sealed class CaptureStream : Stream
    {
        private readonly MemoryStream _written = new();

        public byte[] Written
        {
            get
            {
                lock (_written)
                {
                    return _written.ToArray();
                }
            }
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            new(new TaskCompletionSource<int>().Task);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            lock (_written)
            {
                _written.Write(buffer, offset, count);
            }
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            lock (_written)
            {
                _written.Write(buffer.Span);
            }

            return default;
        }
    }
}
