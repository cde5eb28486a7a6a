using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;
using SelectReactor.Tests.Net;

namespace SelectReactor.Tests.Robustness;

/// <summary>Faults injected through the select seam and through real peers that misbehave.</summary>
public sealed class FaultInjectionTests
{
    [Fact]
    public void SpuriousReadiness_EverySocketReportedReadyEveryOtherTick_EchoStaysExact()
    {
        var handler = new TestEchoHandler();
        using var harness = new ServerHarness(() => handler);
        int calls = 0;
        int spurious = 0;
        harness.Reactor.SelectImplementation = (read, write, error, micros) =>
        {
            // Every other select claims that everything is ready: receives say WouldBlock, accepts throw
            // WouldBlock, writes find nothing queued, the wake-up socket has nothing to drain.
            if (Interlocked.Increment(ref calls) % 2 == 0 && micros != 0)
            {
                Interlocked.Increment(ref spurious);
                return;
            }

            Socket.Select(read, write, error, micros);
        };

        Parallel.For(0, 8, i =>
        {
            byte[] payload = new byte[200_000 + i];
            new Random(i).NextBytes(payload);
            using Socket client = harness.Connect();
            var reader = Task.Run(() => SocketIo.ReceiveToEnd(client));
            client.Send(payload);
            client.Shutdown(SocketShutdown.Send);
            Wait.Result(reader).Should().Equal(payload);
        });

        // What matters is that spurious ticks happened; how many selects the transfer takes depends on the machine
        // (on a fast one loopback's buffers swallow it in under ten).
        spurious.Should().BeGreaterThan(0);
        Wait.Until(() => handler.Closes.Count == 8, "every connection closed");
        handler.Closes.Should().OnlyContain(c => c.Reason == ConnectionCloseReason.RemoteClose);
        harness.Running.LoopError.Should().BeNull();
    }

    [Fact]
    public void SpuriousReadiness_RawRegistrations_CallbacksSeeWouldBlockAndNothingBreaks()
    {
        using var reactor = new Reactor();
        using SocketPair pair = Loopback.Pair();
        var results = new ConcurrentQueue<SocketError>();
        reactor.Register(pair.Server, Interest.Read, onReadable: r =>
        {
            r.Socket.Receive(new byte[16], SocketFlags.None, out SocketError error);
            results.Enqueue(error);
        });
        reactor.SelectImplementation = (read, write, error, micros) => { }; // everything is "ready", always

        for (int i = 0; i < 5; i++)
        {
            reactor.RunOnce(TimeSpan.Zero);
        }

        results.Should().HaveCount(5).And.OnlyContain(e => e == SocketError.WouldBlock);
        reactor.RegistrationCount.Should().Be(1);
    }

    [Fact]
    public void Concurrency_EightThreadsPostRegisterChangeInterestAndDispose_NothingLostDuplicatedOrStuck()
    {
        using var running = new RunningReactor();
        var pairs = new ConcurrentBag<SocketPair>();
        var handlers = new ConcurrentBag<(RecordingHandler Handler, bool Disposed)>();
        long posted = 0;
        long ran = 0;
        var perThreadLast = new int[8];
        int orderViolations = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(2);

        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
        {
            var random = new Random(t);
            int sequence = 0;
            while (DateTime.UtcNow < deadline)
            {
                SocketPair pair = Loopback.Pair();
                pairs.Add(pair);
                var handler = new RecordingHandler { Readable = r => r.Socket.Receive(new byte[64], SocketFlags.None, out _) };
                Registration registration = running.Reactor.Register(pair.Server, handler, (Interest)random.Next(0, 8));
                for (int i = 0; i < 5; i++)
                {
                    registration.Interest = (Interest)random.Next(0, 8);
                    int mine = ++sequence;
                    Interlocked.Increment(ref posted);
                    running.Reactor.Post(() =>
                    {
                        if (perThreadLast[t] != mine - 1)
                        {
                            Interlocked.Increment(ref orderViolations);
                        }

                        perThreadLast[t] = mine;
                        Interlocked.Increment(ref ran);
                    });
                }

                pair.Client.Send(new byte[1]);
                bool dispose = random.Next(2) == 0;
                if (dispose)
                {
                    registration.Dispose();
                }

                handlers.Add((handler, dispose));
            }
        });

        running.Invoke(() => 0);
        Interlocked.Read(ref ran).Should().Be(Interlocked.Read(ref posted));
        orderViolations.Should().Be(0);
        Wait.Until(() => handlers.Where(h => h.Disposed).All(h => h.Handler.ClosedCount == 1), "every disposed registration closed");
        running.Reactor.RegistrationCount.Should().Be(handlers.Count(h => !h.Disposed));
        running.Dispose();
        handlers.Should().OnlyContain(h => h.Handler.ClosedCount == 1);
        handlers.Where(h => !h.Disposed).Should().OnlyContain(h => h.Handler.Snapshot().Contains("closed:ReactorDisposed"));
        running.LoopError.Should().BeNull();
        foreach (SocketPair pair in pairs)
        {
            pair.Dispose();
        }
    }

    [Fact]
    public void PeerResetsMidWrite_HandlerToldResetOnceAndEveryByteDeliveredWasTheClientsInOrder()
    {
        var received = new ConcurrentQueue<byte>();
        var reasons = new ConcurrentQueue<(ConnectionCloseReason, Exception?)>();
        var handler = new DelegateHandler
        {
            Connected = c => c.Send(new byte[2 * 1024 * 1024]), // keeps the server writing while the client resets
            Data = (_, data) =>
            {
                foreach (byte b in data)
                {
                    received.Enqueue(b);
                }
            },
            Drained = c => c.Send(new byte[256 * 1024]),
            Closed = (_, reason, error) => reasons.Enqueue((reason, error)),
        };
        using var harness = new ServerHarness(() => handler);
        using Socket client = harness.Connect();
        byte[] sent = Enumerable.Range(0, 50_000).Select(i => (byte)(i * 13)).ToArray();

        client.Send(sent);
        client.Receive(new byte[4096]);
        client.LingerState = new LingerOption(true, 0);
        client.Close();

        Wait.Until(() => reasons.Count == 1, "the server heard of the reset");
        Thread.Sleep(50); // not synchronisation: a second OnClosed, if the bug existed, would arrive now
        reasons.Should().ContainSingle();
        reasons.Single().Item1.Should().Be(ConnectionCloseReason.ConnectionReset);
        reasons.Single().Item2.Should().BeOfType<SocketException>();
        received.ToArray().Should().Equal(sent.Take(received.Count), "whatever arrived is an in-order prefix of what was sent");
    }

    [Fact]
    public void PeerClosesDuringTheConnectorsHandshake_ExactlyOneConsistentOutcome()
    {
        // A listener that resets every connection the moment it accepts it.
        using Socket listener = Loopback.Listen();
        var resetter = Task.Run(() =>
        {
            for (int i = 0; i < 20; i++)
            {
                using Socket accepted = listener.Accept();
                accepted.LingerState = new LingerOption(true, 0);
            }
        });
        using var running = new RunningReactor();
        var outcomes = new ConcurrentQueue<(bool Connected, ConnectionCloseReason Reason)>();
        var done = new CountdownEvent(20);

        for (int i = 0; i < 20; i++)
        {
            bool connected = false;
            var handler = new DelegateHandler
            {
                Connected = _ => connected = true,
                Closed = (_, reason, _) =>
                {
                    outcomes.Enqueue((connected, reason));
                    done.Signal();
                },
            };
            TcpConnector.Connect(running.Reactor, listener.LocalEndPoint!, handler);
        }

        done.Wait(Wait.Generous).Should().BeTrue();
        Wait.For(resetter);
        outcomes.Should().HaveCount(20);
        outcomes.Should().OnlyContain(o => o.Connected
            ? o.Reason == ConnectionCloseReason.ConnectionReset || o.Reason == ConnectionCloseReason.RemoteClose
            : o.Reason == ConnectionCloseReason.ConnectFailed);
    }

    [Fact]
    public void ConnectorToAListenerThatClosesWithABacklog_FailsOnceNeverHangs()
    {
        var listener = Loopback.Listen();
        EndPoint endPoint = listener.LocalEndPoint!;
        using var running = new RunningReactor();
        var closed = new TaskCompletionSource<ConnectionCloseReason>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool connected = false;
        var handler = new DelegateHandler
        {
            Connected = _ => connected = true,
            Closed = (_, reason, _) => closed.TrySetResult(reason),
        };

        TcpConnector.Connect(running.Reactor, endPoint, handler);
        listener.Dispose(); // the pending connection in the backlog is reset

        ConnectionCloseReason reason = Wait.Result(closed.Task);
        (connected ? reason is ConnectionCloseReason.ConnectionReset or ConnectionCloseReason.RemoteClose : reason == ConnectionCloseReason.ConnectFailed)
            .Should().BeTrue($"connected={connected}, reason={reason}");
    }
}
