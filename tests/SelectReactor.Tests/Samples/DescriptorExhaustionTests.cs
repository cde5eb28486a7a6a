using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Samples;

/// <summary>
/// The samples in a child process under <c>prlimit</c>, run out of descriptors by a flood of connections: every path
/// that first runs while none is free (a join, a chat line, error lines, every way a connection closes, a stop signal)
/// must work then, and the server must serve new clients once descriptors return.
/// </summary>
[Collection(SerialCollection.Name)] // measures descriptors and floods the loopback backlog: alone, not beside other tests
public sealed class DescriptorExhaustionTests
{
    private const int Flood = 200;

    [Theory]
    [InlineData("0")] // no reserve: truly none free while the chat runs, as for any program whose own code exhausts them
    [InlineData(null)] // the library's default reserve
    public void ChatServer_OutOfDescriptors_JoinChatErrorsAndEveryCloseReasonWork_ThenNewClientsAreServed(string? reserve)
    {
        using SampleProcess chat = SampleProcess.StartSample(
            "ChatServer",
            "--port 0 --log-level Warning --max-pending 16384",
            prefix: "prlimit --nofile=140:140",
            environment: reserve is null ? null : ("SELECTREACTOR_DESCRIPTOR_RESERVE", reserve));
        var endPoint = new IPEndPoint(IPAddress.Loopback, SampleProcess.PortIn(chat.WaitFirstLine()));

        // The members connect while descriptors are free; none has joined yet, so joining first runs below.
        using LineClient alice = LineClient.Connect(endPoint);
        using LineClient bob = LineClient.Connect(endPoint);
        using LineClient carol = LineClient.Connect(endPoint);
        using LineClient dave = LineClient.Connect(endPoint);
        using LineClient erin = LineClient.Connect(endPoint);
        using LineClient frank = LineClient.Connect(endPoint, receiveBufferSize: 4096);
        foreach (LineClient member in new[] { alice, bob, carol, dave, erin, frank })
        {
            member.ReadLine().Should().Be("* hello; send your nickname");
        }

        List<Socket> flood = Exhaust(chat, endPoint, free: reserve == "0" ? 0 : 8);
        try
        {
            // Join, with the nickname errors first.
            alice.Send("alice").ReadLine().Should().Be("* welcome alice; online: alice");
            carol.Send("no spaces").ReadLine().Should().StartWith("error: a nickname is 1 to 32 letters");
            carol.Send("ALICE").ReadLine().Should().Be("error: nickname 'ALICE' is taken");
            bob.Send("bob").ReadLine().Should().Be("* welcome bob; online: alice, bob");
            carol.Send("carol").ReadLine().Should().Be("* welcome carol; online: alice, bob, carol");
            dave.Send("dave").ReadLine().Should().StartWith("* welcome dave;");
            erin.Send("erin").ReadLine().Should().StartWith("* welcome erin;");
            frank.Send("frank").ReadLine().Should().StartWith("* welcome frank;");
            alice.SkipUntil("* frank joined");
            bob.SkipUntil("* frank joined");

            // Chat.
            bob.Send("hi alice");
            alice.ReadLine().Should().Be("bob: hi alice");

            // Every way a chat connection closes: the client leaves (RemoteClose), resets (ConnectionReset), is kicked
            // with an error line (LocalClose), or reads nothing while the room talks (SendBufferOverflow).
            carol.Leave();
            alice.ReadLine().Should().Be("* carol left");
            dave.Reset();
            alice.ReadLine().Should().Be("* dave left");
            erin.SendRaw(new byte[1025]);
            erin.SkipUntil("error: line longer than 1024 bytes; closing");
            erin.ReadLine().Should().BeNull();
            alice.ReadLine().Should().Be("* erin left (line too long)");
            string padding = new('.', 1000);
            // Bounded: 20,000 lines of 1 KB at most; the kernel buffers a few MB for frank before the server holds any.
            bool frankLeft = false;
            for (int i = 0; i < 20_000 && !frankLeft; i++)
            {
                alice.Send($"{i} {padding}");
                string? line = bob.ReadLine();
                line.Should().NotBeNull("bob keeps up and stays"); // frank never reads
                frankLeft = line == "* frank left (too slow)";
            }

            frankLeft.Should().BeTrue("frank read nothing and was cut off");
            chat.HasExited.Should().BeFalse();
        }
        finally
        {
            flood.ForEach(s => s.Dispose());
        }

        // Descriptors are back: a newcomer is served, joins and chats.
        Wait.Until(() => chat.OpenDescriptors() < 140 - 20, "the flood's connections are closed");
        using LineClient grace = LineClient.Connect(endPoint);
        grace.ReadLine().Should().Be("* hello; send your nickname");
        grace.Send("grace").ReadLine().Should().Be("* welcome grace; online: alice, bob, grace");
        grace.Send("hello again");
        alice.SkipUntil("grace: hello again");
        chat.Stderr.Should().NotContain("[212]", "no handler faulted (a failed lazy load shows as one)");
        chat.Signal(Signals.SIGTERM);
        chat.WaitExit(TimeSpan.FromSeconds(10)).Should().Be(0, "stderr: " + chat.Stderr);
    }

    [Fact]
    public void EchoServer_SigtermWhileOutOfDescriptors_StopsGracefully()
    {
        // Handling a signal starts a thread, which the runtime cannot do with no descriptor free (it aborts with
        // "Out of memory"): the library's reserve keeps a few free while accept is backing off.
        using SampleProcess echo = SampleProcess.StartSample("EchoServer", "--port 0 --log-level Warning", prefix: "prlimit --nofile=80:80");
        var endPoint = new IPEndPoint(IPAddress.Loopback, SampleProcess.PortIn(echo.WaitFirstLine()));
        List<Socket> flood = Exhaust(echo, endPoint, free: 8);
        try
        {
            var clock = Stopwatch.StartNew();
            echo.Signal(Signals.SIGTERM);

            echo.WaitExit(TimeSpan.FromSeconds(10)).Should().Be(0, "stderr: " + echo.Stderr);
            clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5), "the flood never closes: the stop gives up on it after 3 s");
        }
        finally
        {
            flood.ForEach(s => s.Dispose());
        }
    }

    /// <summary>Connects a flood into the backlog until the server reports it is out of descriptors.</summary>
    private static List<Socket> Exhaust(SampleProcess server, IPEndPoint endPoint, int free)
    {
        var flood = new List<Socket>();
        for (int i = 0; i < Flood; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Connect(endPoint); // completed by the kernel into the backlog, accepted or not
            flood.Add(socket);
        }

        Wait.Until(() => server.Stderr.Contains("[202]", StringComparison.Ordinal), "the server reports running out of descriptors");
        int limit = server.DescriptorLimit();
        // Top the flood up while waiting: should the backlog run dry (the server accepted every queued connection while
        // something of its own briefly held a descriptor), one more connection takes the descriptor that came free.
        int open = 0;
        try
        {
            Wait.Until(
                () =>
                {
                    open = server.DescriptorSlotsInUse(limit);
                    if (open < limit - free && flood.Count < 2 * Flood)
                    {
                        // Non-blocking: with the backlog full the kernel retries the SYN for a minute or more.
                        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
                        flood.Add(socket);
                        try
                        {
                            socket.Connect(endPoint);
                        }
                        catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
                        {
                        }
                    }

                    return open >= limit - free;
                },
                $"at most {free} descriptors are free");
        }
        catch (TimeoutException e)
        {
            flood.ForEach(s => s.Dispose());
            throw new TimeoutException(
                $"{e.Message} Last count of slots in use {open} of {limit}, {flood.Count} flood connections, exited: {server.HasExited}; stderr: {server.Stderr}",
                e);
        }

        return flood;
    }
}
