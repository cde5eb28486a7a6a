using System;
using System.Linq;
using System.Net.Sockets;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests;

/// <summary>Deterministic allocation checks: the reactor's own per-tick work allocates nothing.</summary>
[Collection(SerialCollection.Name)] // alone: a metrics test's listener elsewhere would make instruments record here
public sealed class AllocationTests
{
    private const int Connections = 20; // below the 80 sockets from which the runtime's Select allocates itself

    [Fact]
    public void Tick_SteadyStateWithReadsInterestChangesAndTimers_AllocatesNothing()
    {
        using var reactor = new Reactor();
        var pairs = new SocketPair[Connections];
        var registrations = new Registration[Connections];
        byte[] buffer = new byte[256];
        long bytesRead = 0;
        int writableSeen = 0;
        var handler = new SteadyHandler(buffer, () => bytesRead++, () => writableSeen++);
        for (int i = 0; i < Connections; i++)
        {
            pairs[i] = Loopback.Pair();
            registrations[i] = reactor.Register(pairs[i].Server, handler, Interest.Read);
        }

        int timerFired = 0;
        Registration flipper = registrations[0];
        using IDisposable periodic = reactor.SchedulePeriodic(TimeSpan.FromMilliseconds(1), () =>
        {
            timerFired++;
            flipper.Interest = Interest.Read | Interest.Write;
        });
        byte[] one = [7];

        try
        {
            // Warm-up long enough for tiered compilation and every list, heap and queue to reach its steady size.
            RunTicks(reactor, pairs, one, 10_000);
            long before = GC.GetAllocatedBytesForCurrentThread();
            RunTicks(reactor, pairs, one, 10_000);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            allocated.Should().Be(0, "the reactor's steady-state tick must not allocate");
            bytesRead.Should().BeGreaterThanOrEqualTo(12_000);
            timerFired.Should().BeGreaterThan(0);
            writableSeen.Should().BeGreaterThan(0);
        }
        finally
        {
            foreach (SocketPair pair in pairs)
            {
                pair.Dispose();
            }
        }
    }

    [Fact]
    public void Tick_IdleRegistrationsCheckedEveryTick_AllocatesNothing()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        // Tiering off: this counts selects, and the quiet half would go cold after a second.
        using var reactor = new Reactor(new ReactorOptions { TimeProvider = time, MaxSelectTimeout = TimeSpan.FromMilliseconds(10), MaxColdSocketDelay = TimeSpan.Zero });
        var pairs = new SocketPair[Connections];
        for (int i = 0; i < Connections; i++)
        {
            pairs[i] = Loopback.Pair();
            reactor.Register(pairs[i].Server, new SteadyHandler(new byte[16], () => { }, () => { }), i % 2 == 0 ? Interest.None : Interest.Read);
        }

        int selects = 0;
        reactor.SelectImplementation = (read, write, error, micros) =>
        {
            selects++;
            Socket.Select(read, write, error, micros);
        };

        try
        {
            // Each tick is one check period later, so the check of the idle half runs every time.
            CheckIdleTicks(reactor, time, 10_000);
            long before = GC.GetAllocatedBytesForCurrentThread();
            CheckIdleTicks(reactor, time, 10_000);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            allocated.Should().Be(0, "checking the sockets that watch nothing must not allocate either");
            selects.Should().Be((2 * 20_000) - 1, "every tick but the first (which added the registrations) ran the idle check and the select");
            reactor.RegistrationCount.Should().Be(Connections);
        }
        finally
        {
            foreach (SocketPair pair in pairs)
            {
                pair.Dispose();
            }
        }
    }

    [Fact]
    public void Tick_WithColdSocketsPolledInSlicesAndMovingBetweenTiers_AllocatesNothing()
    {
        const int Cold = 200; // three slices per pass; the runtime allocates nothing below 80 sockets per select
        const int Hot = 20;
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        using var reactor = new Reactor();
        reactor.UseTiers(clock, TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(40));
        var cold = Enumerable.Range(0, Cold).Select(_ => Loopback.Pair()).ToArray();
        var hot = Enumerable.Range(0, Hot).Select(_ => Loopback.Pair()).ToArray();
        long bytesRead = 0;
        var handler = new SteadyHandler(new byte[256], () => bytesRead++, () => { });
        foreach (SocketPair pair in cold)
        {
            reactor.Register(pair.Server, handler, Interest.Read);
        }

        reactor.RunOnce(TimeSpan.Zero);
        clock.Advance(TimeSpan.FromMilliseconds(300));
        reactor.RunOnce(TimeSpan.Zero);
        foreach (SocketPair pair in hot)
        {
            reactor.Register(pair.Server, handler, Interest.Read);
        }

        byte[] one = [7];
        try
        {
            // Every tick: a byte to each hot socket and to one cold one (found by its slice, made hot, cold again
            // 200 ms later), and 10 ms on the tiers' clock, so slices are due in every tick.
            TierTicks(reactor, clock, hot, cold, one, 5_000);
            reactor.ColdCount.Should().BeGreaterThan(Cold / 2, "most of them stayed cold");
            long before = GC.GetAllocatedBytesForCurrentThread();
            TierTicks(reactor, clock, hot, cold, one, 5_000);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            allocated.Should().Be(0, "polling cold slices, promoting and demoting must not allocate");
            bytesRead.Should().BeGreaterThan(2 * 5_000 * Hot / 2);
        }
        finally
        {
            foreach (SocketPair pair in cold.Concat(hot))
            {
                pair.Dispose();
            }
        }
    }

    [Fact]
    public void Post_SteadyStateWithAndWithoutState_AllocatesNothing()
    {
        using var reactor = new Reactor();
        var counter = new int[1];
        Action increment = () => counter[0]++;

        // Warm-up: the queue's segment, the JIT and the per-type operation instances reach their steady state.
        PostAndRun(reactor, increment, counter, 10_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        PostAndRun(reactor, increment, counter, 10_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        allocated.Should().Be(0, "queueing a cached delegate, or a static lambda with reference-type state, must not allocate");
        counter[0].Should().Be(40_000);
    }

    [Fact]
    public void Echo_50ConnectionsPingPong64Bytes_AllocatesLessThanOneBytePerMessageOnTheReactorThread()
    {
        const int Clients = 50; // 50 + listener + wake-up socket: below the runtime's own 80-socket allocation
        const int Rounds = 2_000;
        using var harness = new ServerHarness(() => new TestEchoHandler());
        var clients = Enumerable.Range(0, Clients).Select(_ => harness.Connect()).ToArray();
        byte[] message = new byte[64];
        byte[] reply = new byte[64];
        try
        {
            PingPong(clients, message, reply, 500);
            long allocated = harness.Running.AllocatedWhile(() => PingPong(clients, message, reply, Rounds));

            double perMessage = (double)allocated / (Rounds * Clients);
            perMessage.Should().BeLessThan(1.0, $"{allocated} bytes over {Rounds * Clients} messages");
        }
        finally
        {
            foreach (Socket client in clients)
            {
                client.Dispose();
            }
        }
    }

    [Fact]
    public void Batched_PipelinedRepliesThroughSendAndOutput_AllocateNothingOnTheReactorThread()
    {
        const int Clients = 20;
        const int Rounds = 500;
        using var harness = new ServerHarness(() => new PipelineHandler());
        var clients = Enumerable.Range(0, Clients).Select(_ => harness.Connect()).ToArray();
        byte[] requests = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("GET k\r\n", 16)));
        byte[] replies = new byte[16 * PipelineHandler.ReplyLength];
        try
        {
            PingPong(clients, requests, replies, 100);
            long allocated = harness.Running.AllocatedWhile(() => PingPong(clients, requests, replies, Rounds));

            double perReply = (double)allocated / (Rounds * Clients * 16);
            perReply.Should().BeLessThan(1.0, $"{allocated} bytes over {Rounds * Clients * 16} replies");
        }
        finally
        {
            foreach (Socket client in clients)
            {
                client.Dispose();
            }
        }
    }

    private static void PingPong(Socket[] clients, byte[] message, byte[] reply, int rounds)
    {
        for (int round = 0; round < rounds; round++)
        {
            foreach (Socket client in clients)
            {
                client.Send(message);
            }

            foreach (Socket client in clients)
            {
                int got = 0;
                while (got < reply.Length)
                {
                    int n = client.Receive(reply, got, reply.Length - got, SocketFlags.None);
                    if (n == 0)
                    {
                        throw new InvalidOperationException("the echo server closed a connection");
                    }

                    got += n;
                }
            }
        }
    }

    private static void CheckIdleTicks(Reactor reactor, Microsoft.Extensions.Time.Testing.FakeTimeProvider time, int ticks)
    {
        for (int i = 0; i < ticks; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(10));
            reactor.RunOnce(TimeSpan.Zero);
        }
    }

    private static void TierTicks(Reactor reactor, Microsoft.Extensions.Time.Testing.FakeTimeProvider clock, SocketPair[] hot, SocketPair[] cold, byte[] one, int ticks)
    {
        for (int i = 0; i < ticks; i++)
        {
            foreach (SocketPair pair in hot)
            {
                pair.Client.Send(one.AsSpan(), SocketFlags.None, out _);
            }

            cold[i % cold.Length].Client.Send(one.AsSpan(), SocketFlags.None, out _);
            clock.Advance(TimeSpan.FromMilliseconds(10));
            reactor.RunOnce(TimeSpan.Zero);
        }
    }

    private static void PostAndRun(Reactor reactor, Action action, int[] counter, int rounds)
    {
        for (int i = 0; i < rounds; i++)
        {
            reactor.Post(action);
            reactor.Post(static c => c[0]++, counter);
            reactor.RunOnce(TimeSpan.Zero);
        }
    }

    private static void RunTicks(Reactor reactor, SocketPair[] pairs, byte[] one, int ticks)
    {
        for (int i = 0; i < ticks; i++)
        {
            pairs[i % pairs.Length].Client.Send(one.AsSpan(), SocketFlags.None, out _);
            reactor.RunOnce(TimeSpan.FromMilliseconds(100));
        }
    }

    /// <summary>Answers each request line with a reply built half with Send, half in place through Output.</summary>
    private sealed class PipelineHandler : SelectReactor.Net.ConnectionHandler
    {
        public const int ReplyLength = 9;

        public override void OnData(SelectReactor.Net.TcpConnection connection, ReadOnlySpan<byte> data)
        {
            foreach (byte b in data)
            {
                if (b != (byte)'\n')
                {
                    continue;
                }

                connection.Send("$3\r\n"u8);
                Span<byte> span = connection.Output.GetSpan(5);
                "abc\r\n"u8.CopyTo(span);
                connection.Output.Advance(5);
            }
        }
    }

    private sealed class SteadyHandler(byte[] buffer, Action onRead, Action onWritable) : IEventHandler
    {
        public void OnReadable(Registration registration)
        {
            int n = registration.Socket.Receive(buffer.AsSpan(), SocketFlags.None, out SocketError error);
            if (error == SocketError.Success && n > 0)
            {
                onRead();
            }
        }

        public void OnWritable(Registration registration)
        {
            onWritable();
            registration.Interest = Interest.Read;
        }

        public void OnError(Registration registration)
        {
        }

        public void OnClosed(Registration registration, CloseReason reason, Exception? error)
        {
        }
    }
}
