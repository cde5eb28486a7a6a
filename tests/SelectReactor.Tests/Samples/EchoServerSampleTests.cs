using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Samples;

/// <summary>Black-box tests of samples/EchoServer as a process, the way a new user (or a reviewer) meets it.</summary>
[Collection(SerialCollection.Name)]
public sealed class EchoServerSampleTests
{
    [Fact]
    public void Sample_PrintsExactlyOneListeningLine_EchoesAndExitsZeroOnSigterm()
    {
        (SampleProcess sample, int port) = SampleProcess.StartListening("--port 0");
        using (sample)
        {
            using (Socket client = Connect(port))
            {
                byte[] payload = Enumerable.Range(0, 100_000).Select(i => (byte)(i % 251)).ToArray();
                client.Send(payload);
                client.Shutdown(SocketShutdown.Send);
                SocketIo.ReceiveToEnd(client).Should().Equal(payload);
            }

            var clock = Stopwatch.StartNew();
            sample.Signal(Signals.SIGTERM);

            sample.WaitExit(TimeSpan.FromSeconds(5)).Should().Be(0, "SIGTERM stops it gracefully; stderr: " + sample.Stderr);
            clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5));
            sample.StdoutLines.Should().ContainSingle().Which.Should().Be($"listening on 127.0.0.1:{port}");
        }
    }

    [Fact]
    public void Sample_WithTwoReactors_EchoesOnEveryConnection()
    {
        (SampleProcess sample, int port) = SampleProcess.StartListening("--port 0 --reactors 2");
        using (sample)
        {
            Parallel.For(0, 8, i =>
            {
                using Socket client = Connect(port);
                byte[] payload = Enumerable.Range(0, 10_000 + i).Select(b => (byte)(b ^ i)).ToArray();
                client.Send(payload);
                client.Shutdown(SocketShutdown.Send);
                SocketIo.ReceiveToEnd(client).Should().Equal(payload);
            });

            sample.Signal(Signals.SIGTERM);
            sample.WaitExit(TimeSpan.FromSeconds(5)).Should().Be(0, "stderr: " + sample.Stderr);
        }
    }

    [Fact]
    public void Sample_UdpOption_EchoesDatagramsOnTheSamePort()
    {
        (SampleProcess sample, int port) = SampleProcess.StartListening("--port 0 --udp");
        using (sample)
        {
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 15_000 };
            byte[] reply = new byte[2048];

            client.SendTo("datagram"u8.ToArray(), new IPEndPoint(IPAddress.Loopback, port));
            int n = client.Receive(reply);

            System.Text.Encoding.ASCII.GetString(reply, 0, n).Should().Be("datagram");
            using Socket tcp = Connect(port);
            tcp.Send(new byte[] { 5 });
            SocketIo.ReceiveExactly(tcp, 1).Should().Equal(5);
        }
    }

    [Fact]
    public void Sample_CtrlCWithOpenConnections_ClosesThemAndExitsZero()
    {
        (SampleProcess sample, int port) = SampleProcess.StartListening("--port 0");
        using (sample)
        {
            using Socket idle = Connect(port);
            using Socket busy = Connect(port);
            busy.Send(new byte[] { 1, 2, 3 });
            SocketIo.ReceiveExactly(busy, 3);

            sample.Signal(Signals.SIGINT);

            SocketIo.ReceiveToEnd(idle).Should().BeEmpty("the server ends each stream gracefully");
            sample.WaitExit(TimeSpan.FromSeconds(5)).Should().Be(0, "stderr: " + sample.Stderr);
        }
    }

    [Theory]
    [InlineData("--port notanumber")]
    [InlineData("--port 70000")]
    [InlineData("--bogus 1")]
    [InlineData("--idle-timeout -3")]
    [InlineData("--log-level Loud")]
    [InlineData("--max-connections")]
    [InlineData("--reactors 0")]
    public void Sample_BadOptions_PrintUsageToStderrAndExit2(string arguments)
    {
        using SampleProcess sample = SampleProcess.Start(arguments);

        int? exit = sample.WaitExit(Wait.Generous);

        exit.Should().Be(2);
        sample.Stderr.Should().Contain("usage: EchoServer");
        sample.StdoutLines.Should().BeEmpty();
    }

    [Fact]
    public void Sample_IdleTimeoutOption_ClosesSilentConnections()
    {
        (SampleProcess sample, int port) = SampleProcess.StartListening("--port 0 --idle-timeout 0.3");
        using (sample)
        {
            using Socket client = Connect(port);
            var clock = Stopwatch.StartNew();

            SocketIo.ReceiveToEnd(client).Should().BeEmpty();

            clock.Elapsed.Should().BeGreaterThan(TimeSpan.FromMilliseconds(200));
        }
    }

    [Fact]
    public void Sample_UnixDomainSocket_Echoes()
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"sr-sample-{Guid.NewGuid():N}.sock");
        using SampleProcess sample = SampleProcess.Start($"--unix {path}");
        sample.WaitFirstLine().Should().Be($"listening on unix:{path}");
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = 15_000 };

        client.Connect(new UnixDomainSocketEndPoint(path));
        client.Send("unix echo"u8.ToArray());
        client.Shutdown(SocketShutdown.Send);

        System.Text.Encoding.ASCII.GetString(SocketIo.ReceiveToEnd(client)).Should().Be("unix echo");
        sample.Signal(Signals.SIGTERM);
        sample.WaitExit(TimeSpan.FromSeconds(5)).Should().Be(0);
        System.IO.File.Exists(path).Should().BeFalse("the socket file is removed on exit");
    }

    [Fact]
    public void Sample_UnderAn80DescriptorLimit_200ConnectionsNeitherCrashNorSpin_AndItServesAgain()
    {
        (SampleProcess sample, int port) = SampleProcess.StartListening("--port 0 --log-level Warning", prefix: "prlimit --nofile=80:80");
        using (sample)
        {
            var clients = new List<Socket>();
            try
            {
                // The kernel completes these handshakes into the backlog whether or not the server can accept them.
                for (int i = 0; i < 200; i++)
                {
                    clients.Add(Connect(port));
                }

                Wait.Until(() => sample.Stderr.Contains("[202]", StringComparison.Ordinal), "the server reported running out of descriptors");
                TimeSpan before = sample.CpuTime();
                Thread.Sleep(1000); // measuring: CPU used over a second while descriptors stay exhausted
                TimeSpan used = sample.CpuTime() - before;

                used.Should().BeLessThan(TimeSpan.FromMilliseconds(300), "a server spinning on a readable listener would burn the whole second");
                sample.WaitExit(TimeSpan.Zero).Should().BeNull("the server must not crash");
            }
            finally
            {
                clients.ForEach(c => c.Dispose());
            }

            Socket? served = null;
            Wait.Until(() => TryEcho(port, out served), "the server serves again once descriptors are free");
            served!.Dispose();
            sample.Stderr.Split('\n').Count(l => l.Contains("[202]", StringComparison.Ordinal)).Should().BeLessThanOrEqualTo(2, "the warning is logged once per episode");
            sample.Signal(Signals.SIGTERM);
            sample.WaitExit(TimeSpan.FromSeconds(5)).Should().Be(0, "stderr: " + sample.Stderr);
        }
    }

    [Fact]
    public void Sample_ClientThatSendsWithoutReading_IsThrottledAndMemoryStaysBounded()
    {
        (SampleProcess sample, int port) = SampleProcess.StartListening("--port 0");
        using (sample)
        {
            using Socket client = Connect(port);
            client.ReceiveBufferSize = 64 * 1024;
            long rssBefore = sample.StatusKb("VmRSS");
            const long Total = 256L * 1024 * 1024;
            long sent = 0;
            var writer = Task.Run(() =>
            {
                byte[] chunk = new byte[256 * 1024];
                client.SendTimeout = 1000;
                try
                {
                    while (sent < Total)
                    {
                        sent += client.Send(chunk);
                    }
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
                {
                    // Expected: the server stopped reading, so the client's sends block.
                }
            });

            Wait.For(writer);
            sent.Should().BeLessThan(Total, "a client that never reads is throttled, not buffered without bound");
            long rssThrottled = sample.StatusKb("VmRSS");

            client.Shutdown(SocketShutdown.Receive);
            (rssThrottled - rssBefore).Should().BeLessThan(64 * 1024, $"the server holds at most about a watermark per connection, not the {sent / 1024 / 1024} MiB sent");
        }
    }

    private static bool TryEcho(int port, out Socket? client)
    {
        client = null;
        try
        {
            client = Connect(port);
            client.ReceiveTimeout = 2000;
            client.Send(new byte[] { 42 });
            byte[] reply = new byte[1];
            if (client.Receive(reply) == 1 && reply[0] == 42)
            {
                return true;
            }
        }
        catch (SocketException)
        {
            // Not yet: the backlog is still draining.
        }

        client?.Dispose();
        client = null;
        return false;
    }

    private static Socket Connect(int port) => Loopback.Connect(port);
}
