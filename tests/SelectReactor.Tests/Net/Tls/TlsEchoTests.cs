using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Net.Security;
using System.Security.Authentication;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Net.Tls;

/// <summary>TLS servers and clients with real TLS: .NET's SslStream as the peer, and the library's own connector.</summary>
public sealed class TlsEchoTests
{
    [Theory]
    [InlineData(SslProtocols.Tls13)]
    [InlineData(SslProtocols.Tls12)]
    public void Server_EchoesPlaintext_OnConnectedAfterHandshake_CloseSendsCloseNotifyThenFin(SslProtocols protocol)
    {
        var seen = new TaskCompletionSource<(TlsConnectionInfo? Info, bool OnReactor)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var closed = new TaskCompletionSource<ConnectionCloseReason>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler
        {
            Connected = c => seen.TrySetResult((c.Tls, c.Reactor.IsOnReactorThread)),
            Data = (c, data) =>
            {
                c.Send(data);
                if (data.IndexOf((byte)'!') >= 0)
                {
                    c.Close();
                }
            },
            Closed = (_, reason, _) => closed.TrySetResult(reason),
        };
        using var harness = new ServerHarness(() => handler, new TcpServerOptions { Tls = TestCertificates.Server() });
        SslClientAuthenticationOptions client = TestCertificates.TrustingClient();
        client.EnabledSslProtocols = protocol;

        using var tls = TlsTestClient.Connect(harness.EndPoint, client);
        (TlsConnectionInfo? info, bool onReactor) = Wait.Result(seen.Task);
        tls.Send("hello, "u8);
        byte[] first = tls.ReadExactly(7);
        tls.Send("world!"u8);
        byte[] rest = tls.ReadToEnd(); // ends at the server's close_notify
        int afterCloseNotify = tls.Socket.Receive(new byte[16]);
        tls.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);

        Encoding.ASCII.GetString(first).Should().Be("hello, ");
        Encoding.ASCII.GetString(rest).Should().Be("world!");
        afterCloseNotify.Should().Be(0, "FIN follows close_notify");
        info.Should().NotBeNull("the connection says what the handshake agreed on before OnConnected");
        info!.Protocol.Should().Be(protocol);
        info.CipherSuite.Should().Be(tls.Ssl.NegotiatedCipherSuite);
        info.HostName.Should().Be("localhost", "the client sent SNI");
        info.RemoteCertificate.Should().BeNull("no client certificate was asked for");
        onReactor.Should().BeTrue();
        Wait.Result(closed.Task).Should().Be(ConnectionCloseReason.LocalClose);
    }

    [Fact]
    public void Server_PeersCloseNotify_IsEndOfStream_AndHalfCloseWorksWithTls13()
    {
        var remoteShutdown = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var closed = new TaskCompletionSource<ConnectionCloseReason>(TaskCreationOptions.RunContinuationsAsynchronously);
        var received = new StringBuilder();
        var handler = new DelegateHandler
        {
            Data = (_, data) => received.Append(Encoding.ASCII.GetString(data)),
            RemoteShutdown = c =>
            {
                // The client is done sending; this side still may: answer, then close.
                c.Send(Encoding.ASCII.GetBytes($"got {received.Length} bytes"));
                c.Close();
                remoteShutdown.TrySetResult();
            },
            Closed = (_, reason, _) => closed.TrySetResult(reason),
        };
        using var harness = new ServerHarness(() => handler, new TcpServerOptions { Tls = TestCertificates.Server() });
        SslClientAuthenticationOptions client = TestCertificates.TrustingClient();
        client.EnabledSslProtocols = SslProtocols.Tls13;
        using var tls = TlsTestClient.Connect(harness.EndPoint, client);

        tls.Send("0123456789"u8);
        tls.Ssl.ShutdownAsync().GetAwaiter().GetResult(); // close_notify, no FIN: a TLS 1.3 half-close
        Wait.For(remoteShutdown.Task);
        byte[] answer = tls.ReadToEnd();

        Encoding.ASCII.GetString(answer).Should().Be("got 10 bytes", "the server still sent after the client's close_notify");
        tls.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        Wait.Result(closed.Task).Should().Be(ConnectionCloseReason.RemoteClose);
    }

    [Fact]
    public void Server_Alpn_NegotiatesTheProtocolBothOffer()
    {
        var alpn = new TaskCompletionSource<SslApplicationProtocol>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler { Connected = c => alpn.TrySetResult(c.Tls!.ApplicationProtocol) };
        SslServerAuthenticationOptions server = TestCertificates.Server();
        server.ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11];
        using var harness = new ServerHarness(() => handler, new TcpServerOptions { Tls = server });
        SslClientAuthenticationOptions client = TestCertificates.TrustingClient();
        client.ApplicationProtocols = [new SslApplicationProtocol("redis"), SslApplicationProtocol.Http11];

        using var tls = TlsTestClient.Connect(harness.EndPoint, client);

        tls.Ssl.NegotiatedApplicationProtocol.Should().Be(SslApplicationProtocol.Http11);
        Wait.Result(alpn.Task).Should().Be(SslApplicationProtocol.Http11);
    }

    [Fact]
    public void Server_Sni_SelectsBetweenTwoCertificates()
    {
        var hosts = new ConcurrentQueue<string>();
        SslServerAuthenticationOptions server = new()
        {
            ServerCertificateSelectionCallback = (_, name) => name == "beta.test" ? TestCertificates.Beta : TestCertificates.Alpha,
        };
        var handler = new DelegateHandler { Connected = c => hosts.Enqueue(c.Tls!.HostName) };
        using var harness = new ServerHarness(() => handler, new TcpServerOptions { Tls = server });

        using var alpha = TlsTestClient.Connect(harness.EndPoint, TestCertificates.TrustingClient("alpha.test", TestCertificates.Alpha));
        using var beta = TlsTestClient.Connect(harness.EndPoint, TestCertificates.TrustingClient("beta.test", TestCertificates.Beta));

        alpha.Ssl.RemoteCertificate!.GetCertHashString().Should().Be(TestCertificates.Alpha.Thumbprint);
        beta.Ssl.RemoteCertificate!.GetCertHashString().Should().Be(TestCertificates.Beta.Thumbprint);
        Wait.Until(() => hosts.Count == 2, "both connections opened");
        hosts.Should().BeEquivalentTo(["alpha.test", "beta.test"]);
    }

    [Fact]
    public void Server_RequiredClientCertificate_KnownOneIsAcceptedAndVisible_StrangerIsRefused()
    {
        var opened = new ConcurrentQueue<string?>();
        var failures = new ConcurrentQueue<(ConnectionCloseReason Reason, Exception? Error)>();
        SslServerAuthenticationOptions server = TestCertificates.Server();
        server.ClientCertificateRequired = true;
        server.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is not null && certificate.GetCertHashString() == TestCertificates.Client.Thumbprint;
        var handler = new DelegateHandler
        {
            Connected = c => opened.Enqueue(c.Tls!.RemoteCertificate?.Thumbprint),
            Closed = (_, reason, error) =>
            {
                if (reason == ConnectionCloseReason.TlsHandshakeFailed)
                {
                    failures.Enqueue((reason, error));
                }
            },
        };
        using var harness = new ServerHarness(() => handler, new TcpServerOptions { Tls = server });
        SslClientAuthenticationOptions known = TestCertificates.TrustingClient();
        known.ClientCertificates = [TestCertificates.Client];
        SslClientAuthenticationOptions stranger = TestCertificates.TrustingClient();
        stranger.ClientCertificates = [TestCertificates.Stranger];

        using (var accepted = TlsTestClient.Connect(harness.EndPoint, known))
        {
            accepted.Send("ping"u8);
            accepted.ReadExactly(4).Should().Equal("ping"u8.ToArray());
        }

        string strangerGot = TryEcho(harness, stranger);

        strangerGot.Should().Match(s => s.StartsWith("failed:", StringComparison.Ordinal) || s == "end of stream", "the server refused the stranger");
        Wait.Until(() => failures.Count == 1, "the stranger's connection failed on the server");
        opened.Should().Equal(TestCertificates.Client.Thumbprint);
        failures.Should().ContainSingle().Which.Error.Should().BeAssignableTo<AuthenticationException>();
    }

    [Fact]
    public void Connector_TalksToTheLibrarysOwnServer_BothSidesSeeTheHandshake()
    {
        SslServerAuthenticationOptions server = TestCertificates.Server();
        server.ApplicationProtocols = [new SslApplicationProtocol("echo/1")];
        var serverInfo = new TaskCompletionSource<TlsConnectionInfo>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var harness = new ServerHarness(() => new DelegateHandler { Connected = c => serverInfo.TrySetResult(c.Tls!) }, new TcpServerOptions { Tls = server });
        var reply = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var clientInfo = new TaskCompletionSource<TlsConnectionInfo>(TaskCreationOptions.RunContinuationsAsynchronously);
        var closed = new TaskCompletionSource<ConnectionCloseReason>(TaskCreationOptions.RunContinuationsAsynchronously);
        var received = new StringBuilder();
        var handler = new DelegateHandler
        {
            Connected = c =>
            {
                clientInfo.TrySetResult(c.Tls!);
                c.Send("over tls"u8);
            },
            Data = (c, data) =>
            {
                received.Append(Encoding.ASCII.GetString(data));
                if (received.Length == 8)
                {
                    reply.TrySetResult(received.ToString());
                    c.Close();
                }
            },
            Closed = (_, reason, _) => closed.TrySetResult(reason),
        };
        SslClientAuthenticationOptions client = TestCertificates.TrustingClient();
        client.ApplicationProtocols = [new SslApplicationProtocol("echo/1")];

        harness.Running.Invoke(() => TcpConnector.Connect(harness.Reactor, harness.EndPoint, handler, new TcpConnectorOptions { Tls = client }));

        Wait.Result(reply.Task).Should().Be("over tls");
        Wait.Result(closed.Task).Should().Be(ConnectionCloseReason.LocalClose);
        TlsConnectionInfo mine = Wait.Result(clientInfo.Task);
        TlsConnectionInfo theirs = Wait.Result(serverInfo.Task);
        mine.Protocol.Should().Be(SslProtocols.Tls13);
        mine.ApplicationProtocol.ToString().Should().Be("echo/1");
        mine.RemoteCertificate!.Thumbprint.Should().Be(TestCertificates.Localhost.Thumbprint);
        mine.HostName.Should().Be("localhost");
        theirs.CipherSuite.Should().Be(mine.CipherSuite);
    }

    [Fact]
    public void Connector_UntrustedServerCertificate_FailsTheHandshake_WithoutOnConnected()
    {
        using var harness = new ServerHarness(() => new DelegateHandler(), new TcpServerOptions { Tls = TestCertificates.Server() });
        bool connected = false;
        var closed = new TaskCompletionSource<(ConnectionCloseReason, Exception?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler
        {
            Connected = _ => connected = true,
            Closed = (_, reason, error) => closed.TrySetResult((reason, error)),
        };

        // No validation callback: the self-signed certificate is not trusted by the system.
        harness.Running.Invoke(() => TcpConnector.Connect(harness.Reactor, harness.EndPoint, handler, new TcpConnectorOptions
        {
            Tls = new SslClientAuthenticationOptions { TargetHost = "localhost" },
        }));

        (ConnectionCloseReason reason, Exception? error) = Wait.Result(closed.Task);
        reason.Should().Be(ConnectionCloseReason.TlsHandshakeFailed);
        error.Should().BeAssignableTo<AuthenticationException>();
        connected.Should().BeFalse();
    }

    [Fact]
    public void Server_SeveralRecordsInOneSegment_HandlerPausingAfterEach_AllDeliveredWithoutNewSocketData()
    {
        const int Records = 10;
        const int RecordSize = 4000;
        var received = new List<byte>();
        int deliveries = 0;
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler
        {
            Data = (c, data) =>
            {
                deliveries++;
                received.AddRange(data.ToArray());
                if (received.Count == Records * RecordSize)
                {
                    all.TrySetResult();
                    return;
                }

                // Paused after every delivery, resumed by a timer: the socket has nothing more to say by then, so what
                // is left must come from what the TLS layer (and the SslStream in it) already holds.
                c.PauseReading();
                c.Reactor.Schedule(TimeSpan.FromMilliseconds(2), c.ResumeReading);
            },
        };
        using var harness = new ServerHarness(() => handler, new TcpServerOptions { Tls = TestCertificates.Server() });
        using var tls = TlsTestClient.Connect(harness.EndPoint, TestCertificates.TrustingClient(), bufferWrites: true);
        byte[] expected = new byte[Records * RecordSize];
        new Random(7).NextBytes(expected);

        for (int i = 0; i < Records; i++)
        {
            tls.Ssl.Write(expected.AsSpan(i * RecordSize, RecordSize)); // one record each, buffered
        }

        tls.FlushWrites(); // all ten records in one send
        Wait.For(all.Task);

        received.Should().Equal(expected);
        deliveries.Should().BeGreaterThanOrEqualTo(3, "a delivery holds at most one 16 KiB plaintext buffer, so the rest waited in the layer while the handler was paused");
    }

    [Fact]
    public void Server_PeerThatDoesNotRead_FillsTheSendBuffer_CountingCiphertext_ThenDrains()
    {
        var full = new TaskCompletionSource<(long Pending, long PlaintextSent)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        byte[] chunk = new byte[8 * 1024];
        long sent = 0;
        var handler = new DelegateHandler
        {
            Connected = c =>
            {
                // Produce until the connection says it is full: what it holds (plaintext and ciphertext) passed the mark.
                while (!c.IsSendBufferFull && sent < 64L * 1024 * 1024)
                {
                    c.Send(chunk);
                    sent += chunk.Length;
                }

                full.TrySetResult((c.PendingSendBytes, sent));
            },
            Drained = _ => drained.TrySetResult(),
        };
        var options = new TcpServerOptions { Tls = TestCertificates.Server(), Connection = { SendHighWatermark = 256 * 1024, SendLowWatermark = 64 * 1024 } };
        using var harness = new ServerHarness(() => handler, options);
        using var tls = TlsTestClient.Connect(harness.EndPoint, TestCertificates.TrustingClient());
        tls.Socket.ReceiveBufferSize = 4096;

        (long pending, long plaintextSent) = Wait.Result(full.Task);
        long read = 0;
        byte[] buffer = new byte[64 * 1024];
        while (read < plaintextSent)
        {
            read += tls.Ssl.Read(buffer);
        }

        pending.Should().BeGreaterThan(256 * 1024);
        plaintextSent.Should().BeLessThan(64L * 1024 * 1024, "the watermark stopped the producer");
        Wait.For(drained.Task);
        read.Should().Be(plaintextSent);
    }

    [Fact]
    public void Server_CloseAfterALargeSend_ASlowReaderGetsEveryByteThenCloseNotify()
    {
        const int Size = 3 * 1024 * 1024;
        byte[] payload = new byte[Size];
        new Random(11).NextBytes(payload);
        var closed = new TaskCompletionSource<ConnectionCloseReason>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler
        {
            Connected = c =>
            {
                c.Send(payload);
                c.Close(); // flush everything (encrypted), then close_notify, then FIN
            },
            Closed = (_, reason, _) => closed.TrySetResult(reason),
        };
        using var harness = new ServerHarness(() => handler, new TcpServerOptions { Tls = TestCertificates.Server() });
        using var tls = TlsTestClient.Connect(harness.EndPoint, TestCertificates.TrustingClient());

        var received = new System.IO.MemoryStream();
        byte[] buffer = new byte[4096];
        int n;
        while ((n = tls.Ssl.Read(buffer)) > 0)
        {
            received.Write(buffer, 0, n);
            if (received.Length % (256 * 1024) < 4096)
            {
                Thread.Sleep(10); // a slow reader: the server's output waits in the kernel and in its queue meanwhile
            }
        }

        tls.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);

        received.ToArray().Should().Equal(payload, "every byte came before the close_notify that ended the read");
        Wait.Result(closed.Task).Should().Be(ConnectionCloseReason.LocalClose);
    }

    [Fact]
    public void Server_HandlerIgnoringTheWatermark_HitsTheCapCountedInCiphertext_AndIsAborted()
    {
        var closed = new TaskCompletionSource<ConnectionCloseReason>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler
        {
            Connected = c =>
            {
                byte[] chunk = new byte[16 * 1024];
                for (int i = 0; i < 256 && c.Send(chunk); i++)
                {
                    // Ignores OnSendBufferFull: only the cap stops it.
                }
            },
            Closed = (_, reason, _) => closed.TrySetResult(reason),
        };
        var options = new TcpServerOptions
        {
            Tls = TestCertificates.Server(),
            Connection = { SendHighWatermark = 64 * 1024, SendLowWatermark = 16 * 1024, MaxPendingSendBytes = 1024 * 1024 },
        };
        using var harness = new ServerHarness(() => handler, options);
        using var tls = TlsTestClient.Connect(harness.EndPoint, TestCertificates.TrustingClient()); // and never reads

        Wait.Result(closed.Task).Should().Be(ConnectionCloseReason.SendBufferOverflow);
    }

    /// <summary>
    /// Connects, sends "ping" and reads the echo: "ping", "end of stream", or "failed: ..." (in TLS 1.3 a client's
    /// handshake completes before the server has judged its certificate, so a refusal may surface on the first read).
    /// </summary>
    private static string TryEcho(ServerHarness harness, SslClientAuthenticationOptions options)
    {
        try
        {
            using var tls = TlsTestClient.Connect(harness.EndPoint, options);
            tls.Send("ping"u8);
            byte[] buffer = new byte[4];
            int n = tls.Ssl.Read(buffer);
            return n == 0 ? "end of stream" : Encoding.ASCII.GetString(buffer, 0, n);
        }
        catch (Exception e) when (e is AuthenticationException or System.IO.IOException)
        {
            return "failed: " + e.Message;
        }
    }
}
