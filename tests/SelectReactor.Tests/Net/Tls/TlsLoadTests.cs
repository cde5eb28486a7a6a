using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Net.Security;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Net.Tls;

/// <summary>
/// Many TLS connections at once, what they leave behind, where their work runs, and what steady state allocates.
/// Serial: they count process-wide things (pooled buffers, descriptors, allocation on the reactor thread).
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class TlsLoadTests
{
    [Fact]
    public async Task TwoHundredConcurrentConnections_Echo_OnTheReactorThreadOnly_AndLeaveNothingBehind()
    {
        const int Connections = 200;
        const int Rounds = 20;
        var handler = new ThreadCheckingEcho();
        using var harness = new ServerHarness(() => handler, new TcpServerOptions { Tls = TestCertificates.Server() });
        harness.Running.Invoke(() => 0); // the reactor thread has run: its lazily made objects are not leaks
        await OneClient(harness, 0, 1);
        Wait.Until(() => harness.Server.ConnectionCount == 0, "the warm-up connection closed");
        int descriptorsBefore = LeakTests.OpenDescriptors();
        long buffersBefore = BufferPool.Outstanding;
        long offThreadBefore = ReactorDuplexStream.OffThreadCalls;

        int[] echoed = await Task.WhenAll(Enumerable.Range(1, Connections).Select(i => Task.Run(() => OneClient(harness, i, Rounds))));

        echoed.Should().OnlyContain(n => n == Rounds);
        Wait.Until(() => harness.Server.ConnectionCount == 0, "every connection closed");
        handler.Closes.Should().HaveCount(Connections + 1);
        handler.Closes.Should().OnlyContain(c => c.Reason == ConnectionCloseReason.RemoteClose && c.RentedBuffers == 0);
        handler.OffThreadCallbacks.Should().Be(0, "every handler callback ran on the reactor thread");
        ReactorDuplexStream.OffThreadCalls.Should().Be(offThreadBefore, "every SslStream operation and continuation ran on the reactor thread: no thread-pool hop");
        BufferPool.IsCounting.Should().BeTrue();
        BufferPool.Outstanding.Should().Be(buffersBefore, "every pooled buffer came back");
        LeakTests.OpenDescriptors().Should().BeLessThanOrEqualTo(descriptorsBefore + 2);
    }

    [Fact]
    public void PingPong64BytesOver20TlsConnections_AllocatesLessThanOneBytePerMessageOnTheReactorThread()
    {
        const int Clients = 20;
        const int Rounds = 1_000;
        using var harness = new ServerHarness(() => new TestEchoHandler(), new TcpServerOptions { Tls = TestCertificates.Server() });
        TlsTestClient[] clients = Enumerable.Range(0, Clients).Select(_ => TlsTestClient.Connect(harness.EndPoint, TestCertificates.TrustingClient())).ToArray();
        byte[] message = new byte[64];
        byte[] reply = new byte[64];
        try
        {
            PingPong(clients, message, reply, 500); // warm-up: tiered compilation, pools, the state-machine boxes
            long allocated = harness.Running.AllocatedWhile(() => PingPong(clients, message, reply, Rounds));

            double perMessage = (double)allocated / (Rounds * Clients);

            // Measured 240 B over 20,000 messages (0.012 B each, one-off growth): SslStream's reads use pooled state
            // machines, this layer's inner stream is its own IValueTaskSource, writes are synchronous. A per-message
            // object (24 bytes at the least) could not fit under the bound.
            perMessage.Should().BeLessThan(1.0, $"{allocated} bytes over {Rounds * Clients} messages");
        }
        finally
        {
            foreach (TlsTestClient client in clients)
            {
                client.Dispose();
            }
        }
    }

    [Fact]
    public void IdleTlsConnection_HoldsNoPooledBuffer()
    {
        var connections = new ConcurrentQueue<TcpConnection>();
        using var harness = new ServerHarness(() => new DelegateHandler { Connected = connections.Enqueue }, new TcpServerOptions { Tls = TestCertificates.Server() });
        using var tls = TlsTestClient.Connect(harness.EndPoint, TestCertificates.TrustingClient());
        tls.Send(new byte[40_000]); // several records, through every buffer once
        tls.ReadExactly(40_000);

        Wait.Until(() => !connections.IsEmpty, "the connection opened");
        connections.TryPeek(out TcpConnection? connection).Should().BeTrue();
        int rented = harness.Running.Invoke(() => connection!.RentedBuffers);

        rented.Should().Be(0, "between messages the layer holds no ciphertext, no plaintext and no send segment");
    }

    private static async Task<int> OneClient(ServerHarness harness, int id, int rounds)
    {
        using Socket socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timeout = new CancellationTokenSource(Wait.Generous * 2);
        await socket.ConnectAsync(harness.EndPoint, timeout.Token);
        await using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false));
        await ssl.AuthenticateAsClientAsync(TestCertificates.TrustingClient(), timeout.Token);
        byte[] message = BitConverter.GetBytes(id).Concat(new byte[60]).ToArray();
        byte[] reply = new byte[message.Length];
        int echoed = 0;
        for (int round = 0; round < rounds; round++)
        {
            message[4] = (byte)round;
            await ssl.WriteAsync(message, timeout.Token);
            await ssl.ReadExactlyAsync(reply, timeout.Token);
            if (reply.AsSpan().SequenceEqual(message))
            {
                echoed++;
            }
        }

        await ssl.ShutdownAsync(); // close_notify: the server's handler hears end of stream and closes in turn
        byte[] end = new byte[16];
        (await ssl.ReadAsync(end, timeout.Token)).Should().Be(0, "the server's close_notify");
        return echoed;
    }

    private static void PingPong(TlsTestClient[] clients, byte[] message, byte[] reply, int rounds)
    {
        for (int round = 0; round < rounds; round++)
        {
            foreach (TlsTestClient client in clients)
            {
                client.Ssl.Write(message);
            }

            foreach (TlsTestClient client in clients)
            {
                client.Ssl.ReadExactly(reply);
            }
        }
    }

    /// <summary>Echoes, and counts any callback that runs off the reactor thread.</summary>
    private sealed class ThreadCheckingEcho : ConnectionHandler
    {
        private int _offThread;

        public int OffThreadCallbacks => Volatile.Read(ref _offThread);

        public ConcurrentQueue<(ConnectionCloseReason Reason, int RentedBuffers)> Closes { get; } = new();

        public override void OnConnected(TcpConnection connection) => Check(connection);

        public override void OnData(TcpConnection connection, ReadOnlySpan<byte> data)
        {
            Check(connection);
            connection.Send(data);
        }

        public override void OnRemoteShutdown(TcpConnection connection)
        {
            Check(connection);
            base.OnRemoteShutdown(connection);
        }

        public override void OnClosed(TcpConnection connection, ConnectionCloseReason reason, Exception? error)
        {
            Check(connection);
            Closes.Enqueue((reason, connection.RentedBuffers));
        }

        private void Check(TcpConnection connection)
        {
            if (!connection.Reactor.IsOnReactorThread)
            {
                Interlocked.Increment(ref _offThread);
            }
        }
    }
}
