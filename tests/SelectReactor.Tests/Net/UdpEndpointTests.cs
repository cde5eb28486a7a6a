using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Net;

public sealed class UdpEndpointTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1_400)]
    [InlineData(65_507)]
    public void Echo_DatagramsOfEverySize_ComeBackWhole(int size)
    {
        using var running = new RunningReactor();
        using var endpoint = new UdpEndpoint(running.Reactor, new IPEndPoint(IPAddress.Loopback, 0), new UdpEcho());
        endpoint.Start();
        using var client = Client();
        byte[] datagram = new byte[size];
        new Random(size).NextBytes(datagram);

        client.SendTo(datagram, endpoint.LocalEndPoint!);
        byte[] reply = new byte[70_000];
        int n = client.Receive(reply);

        reply.AsSpan(0, n).SequenceEqual(datagram).Should().BeTrue();
        Wait.Until(() => endpoint.DatagramsSent == 1, "the reply was counted");
        endpoint.DatagramsReceived.Should().Be(1);
    }

    [Fact]
    public void Truncated_DatagramLargerThanTheMaximum_IsReportedAndTheNextOneIsFine()
    {
        using var running = new RunningReactor();
        var handler = new UdpEcho();
        using var endpoint = new UdpEndpoint(running.Reactor, new IPEndPoint(IPAddress.Loopback, 0), handler, new UdpEndpointOptions { MaxDatagramSize = 100 });
        endpoint.Start();
        using var client = Client();

        client.SendTo(new byte[200], endpoint.LocalEndPoint!);
        client.SendTo(new byte[] { 1, 2, 3 }, endpoint.LocalEndPoint!);
        byte[] reply = new byte[1000];
        int n = client.Receive(reply);

        reply.AsSpan(0, n).ToArray().Should().Equal(1, 2, 3);
        endpoint.DatagramsTruncated.Should().Be(1);
        handler.Truncated.Should().ContainSingle().Which.Should().Be(100, "the first 100 bytes are handed over");
    }

    [Fact]
    public void IcmpPortUnreachable_NeverEndsTheEndpoint()
    {
        using var running = new RunningReactor();
        var handler = new UdpEcho();
        using var endpoint = new UdpEndpoint(running.Reactor, new IPEndPoint(IPAddress.Loopback, 0), handler);
        endpoint.Start();
        IPEndPoint nobody = UnusedUdpEndPoint();

        // Send into the void a few times; the ICMP errors come back on this socket.
        for (int i = 0; i < 5; i++)
        {
            running.Invoke(() => endpoint.SendTo(new byte[] { 9 }, nobody));
        }

        using var client = Client();
        client.SendTo(new byte[] { 7 }, endpoint.LocalEndPoint!);
        byte[] reply = new byte[16];
        client.Receive(reply).Should().Be(1);
        reply[0].Should().Be(7);
        handler.Closed.Should().BeEmpty();
        running.LoopError.Should().BeNull();
    }

    [Fact]
    public void Batch_ManyDatagramsWaiting_AreReadAtMostTheBatchPerReadiness()
    {
        using var reactor = new Reactor();
        var handler = new UdpEcho { Echo = false };
        using var endpoint = new UdpEndpoint(reactor, new IPEndPoint(IPAddress.Loopback, 0), handler, new UdpEndpointOptions { MaxDatagramsPerReadiness = 16 });
        endpoint.Start();
        reactor.RunOnce(TimeSpan.Zero);
        using var client = Client();
        for (int i = 0; i < 100; i++)
        {
            client.SendTo(BitConverter.GetBytes(i), endpoint.LocalEndPoint!);
        }

        Wait.Until(() => endpoint.LocalEndPoint is not null, "started");
        reactor.RunOnce(Wait.Generous);
        long first = endpoint.DatagramsReceived;
        DispatchTests.RunUntil(reactor, () => endpoint.DatagramsReceived == 100);

        first.Should().Be(16);
        handler.Values.Should().Equal(Enumerable.Range(0, 100), "datagrams arrive in order on loopback and none is lost");
    }

    [Fact]
    public void Dispose_FromAnotherThread_ClosesOnceAndStopsReceiving()
    {
        using var running = new RunningReactor();
        var handler = new UdpEcho();
        var endpoint = new UdpEndpoint(running.Reactor, new IPEndPoint(IPAddress.Loopback, 0), handler);
        endpoint.Start();

        endpoint.Dispose();
        endpoint.Dispose();

        Wait.Until(() => handler.Closed.Count == 1, "the handler heard of the close");
        running.Invoke(() => endpoint.SendTo(new byte[1], new IPEndPoint(IPAddress.Loopback, 9))).Should().BeFalse();
        handler.Closed.Single().Should().BeNull("disposed by its owner");
        running.Reactor.RegistrationCount.Should().Be(0);
    }

    [Fact]
    public void Receive_10000Datagrams_AllocatesNothingPerDatagramOnTheReactorThread()
    {
        using var running = new RunningReactor();
        var handler = new UdpEcho();
        using var endpoint = new UdpEndpoint(running.Reactor, new IPEndPoint(IPAddress.Loopback, 0), handler);
        endpoint.Start();
        using var client = Client();
        byte[] datagram = new byte[64];
        byte[] reply = new byte[64];
        void PingPong(int count)
        {
            for (int i = 0; i < count; i++)
            {
                client.SendTo(datagram, endpoint.LocalEndPoint!);
                client.Receive(reply);
            }
        }

        PingPong(2_000);
        long allocated = running.AllocatedWhile(() => PingPong(10_000));

        ((double)allocated / 10_000).Should().BeLessThan(1.0, $"{allocated} bytes for 10,000 datagrams received and echoed");
    }

    [Fact]
    public void Arguments_AreValidated()
    {
        using var reactor = new Reactor();

        FluentActions.Invoking(() => new UdpEndpoint(null!, new IPEndPoint(IPAddress.Loopback, 0), new UdpEcho())).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => new UdpEndpointOptions { MaxDatagramSize = 0 }).Should().Throw<ArgumentOutOfRangeException>();
        var endpoint = new UdpEndpoint(reactor, new IPEndPoint(IPAddress.Loopback, 0), new UdpEcho());
        endpoint.Start();
        endpoint.Invoking(e => e.Start()).Should().Throw<InvalidOperationException>();
        endpoint.Invoking(e => e.SendTo(new byte[1], new IPEndPoint(IPAddress.Loopback, 9))).Should().Throw<InvalidOperationException>("not on the reactor thread");
    }

    private static Socket Client()
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 15_000 };
        client.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return client;
    }

    private static IPEndPoint UnusedUdpEndPoint()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return (IPEndPoint)probe.LocalEndPoint!;
    }

    private sealed class UdpEcho : DatagramHandler
    {
        public bool Echo { get; init; } = true;

        public ConcurrentQueue<int> Values { get; } = new();

        public ConcurrentQueue<int> Truncated { get; } = new();

        public ConcurrentQueue<SocketError> Errors { get; } = new();

        public ConcurrentQueue<Exception?> Closed { get; } = new();

        public override void OnDatagram(UdpEndpoint endpoint, ReadOnlySpan<byte> data, SocketAddress remote)
        {
            if (Echo)
            {
                endpoint.SendTo(data, remote);
            }
            else if (data.Length == 4)
            {
                Values.Enqueue(BitConverter.ToInt32(data));
            }
        }

        public override void OnTruncated(UdpEndpoint endpoint, ReadOnlySpan<byte> truncated, SocketAddress remote) => Truncated.Enqueue(truncated.Length);

        public override void OnError(UdpEndpoint endpoint, SocketError error) => Errors.Enqueue(error);

        public override void OnClosed(UdpEndpoint endpoint, Exception? error) => Closed.Enqueue(error);
    }
}
