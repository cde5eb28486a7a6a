using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Threading;
using Microsoft.Extensions.Time.Testing;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests;

/// <summary>
/// Idle sockets leave the per-tick select (they go cold) and are polled in slices, at least once per pace; any event
/// or interest change makes them hot again. These tests drive the tiers' clock by hand (a fake clock handed to the
/// tiers; the reactor's own clock is real time), on real loopback sockets, so every step is deterministic.
/// </summary>
public sealed class TieringTests
{
    private static readonly TimeSpan ColdAfter = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Bound = TimeSpan.FromMilliseconds(50);
    private static readonly byte[] Some = [1, 2, 3];

    [Fact]
    public void QuietSocket_GoesColdAfterTheIdlePeriod_AndIsStillServedWithinThePace()
    {
        (Reactor reactor, FakeTimeProvider clock) = NewReactor();
        using (reactor)
        using (SocketPair pair = Loopback.Pair())
        {
            var handler = Draining();
            Registration registration = reactor.Register(pair.Server, handler, Interest.Read);
            reactor.RunOnce(TimeSpan.Zero);
            clock.Advance(ColdAfter / 2);
            reactor.RunOnce(TimeSpan.Zero);
            registration.Cold.Should().BeFalse("half the idle period is not enough");

            GoQuiet(reactor, clock);
            registration.Cold.Should().BeTrue("no event for the whole idle period");
            TimeSpan pace = reactor.ColdPace(clock);
            pace.Should().BeGreaterThan(TimeSpan.Zero).And.BeLessThanOrEqualTo(Bound);

            SendAndWaitArrived(pair);
            reactor.RunOnce(TimeSpan.Zero);
            handler.ReadableCount.Should().Be(0, "a cold socket waits for its slice while the loop is busy");
            clock.Advance(pace);
            reactor.RunOnce(TimeSpan.Zero);

            handler.ReadableCount.Should().Be(1, "within one pace its slice is polled");
            registration.Cold.Should().BeFalse("an event makes it hot again");
            reactor.ColdCount.Should().Be(0);
        }
    }

    [Fact]
    public void WokenFromCold_GoesBackAfterAQuarterOfTheIdlePeriod_UnlessItHasAnotherEvent()
    {
        (Reactor reactor, FakeTimeProvider clock) = NewReactor();
        using (reactor)
        using (SocketPair once = Loopback.Pair())
        using (SocketPair twice = Loopback.Pair())
        {
            Registration onceRegistration = reactor.Register(once.Server, Draining(), Interest.Read);
            Registration twiceRegistration = reactor.Register(twice.Server, Draining(), Interest.Read);
            reactor.RunOnce(TimeSpan.Zero);
            GoQuiet(reactor, clock);
            SendAndWaitArrived(once);
            SendAndWaitArrived(twice);
            clock.Advance(reactor.ColdPace(clock));
            reactor.RunOnce(TimeSpan.Zero);
            onceRegistration.Cold.Should().BeFalse();
            twiceRegistration.Cold.Should().BeFalse();

            SendAndWaitArrived(twice); // a second event: it is busy again, not just woken
            clock.Advance(ColdAfter / 8);
            reactor.RunOnce(TimeSpan.Zero);
            clock.Advance(ColdAfter / 2);
            reactor.RunOnce(TimeSpan.Zero);

            onceRegistration.Cold.Should().BeTrue("one event after a long sleep keeps a socket hot for a quarter of the idle period only");
            twiceRegistration.Cold.Should().BeFalse("a second event earns it the whole idle period");
            GoQuiet(reactor, clock);
            twiceRegistration.Cold.Should().BeTrue();
        }
    }

    [Fact]
    public void QuietLoop_WaitsInOneSelectOverEverything_AndSeesAColdSocketAtOnce()
    {
        (Reactor reactor, FakeTimeProvider clock) = NewReactor();
        using (reactor)
        using (SocketPair pair = Loopback.Pair())
        {
            var handler = Draining();
            Registration registration = reactor.Register(pair.Server, handler, Interest.Read);
            reactor.RunOnce(TimeSpan.Zero);
            GoQuiet(reactor, clock);
            clock.Advance(Bound);
            var lists = new List<int>();
            reactor.SelectImplementation = (read, write, error, micros) =>
            {
                lists.Add(read?.Count ?? 0);
                Socket.Select(read, write, error, micros);
            };

            SendAndWaitArrived(pair);
            reactor.RunOnce(Wait.Generous);

            handler.ReadableCount.Should().Be(1, "the loop had nothing to do, so it selected the cold socket too");
            lists.Should().Equal([2], "one select: the wake-up socket and the cold one");
            registration.Cold.Should().BeFalse();
        }
    }

    [Fact]
    public void QuietLoop_WhoseWaitIsShorterThanThreePaces_PollsSlicesInsteadOfABlockingSelectOverEverything()
    {
        (Reactor reactor, FakeTimeProvider clock) = NewReactor();
        using var pairs = new SocketPairs(200);
        using (reactor)
        {
            pairs.RegisterDraining(reactor);
            reactor.RunOnce(TimeSpan.Zero);
            GoQuiet(reactor, clock);
            TimeSpan pace = reactor.ColdPace(clock);
            pace.Should().BeGreaterThan(Bound / 2, "the pass begun as the tier filled is paced for its 200 sockets, not for none");
            clock.Advance(Bound); // nothing ready for a whole pace: quiet
            var calls = new List<int>();
            var waits = new List<int>();
            reactor.SelectImplementation = (read, write, error, micros) =>
            {
                waits.Add(micros);
                calls.Add((read?.Count ?? 0) + (write?.Count ?? 0) + (error?.Count ?? 0));
                Socket.Select(read, write, error, micros);
            };

            reactor.RunOnce(pace * 2); // a wait as short as a frequent timer's
            calls.Should().Equal([1, 79, 79, 42], $"a blocking select over 201 sockets would cost more than the slices it replaces (pace {pace}, waits {string.Join(",", waits)}, cold {reactor.ColdCount})");

            calls.Clear();
            clock.Advance(Bound);
            reactor.RunOnce(pace * (SocketTiers.EverythingAfterPaces + 1));
            calls.Should().Equal([201], "a long enough wait is one select over everything, the wake-up socket included");
        }
    }

    [Fact]
    public void ColdSocketDisposedBehindTheReactorsBack_IsEvictedWithinThePace_AndTheOthersKeepWorking()
    {
        (Reactor reactor, FakeTimeProvider clock) = NewReactor();
        using var pairs = new SocketPairs(2);
        using (reactor)
        {
            RecordingHandler[] handlers = pairs.RegisterDraining(reactor);
            (SocketPair victim, RecordingHandler victimHandler) = (pairs[0], handlers[0]);
            (SocketPair other, RecordingHandler otherHandler) = (pairs[1], handlers[1]);
            reactor.RunOnce(TimeSpan.Zero);
            GoQuiet(reactor, clock);
            reactor.ColdCount.Should().Be(2);

            victim.Server.Dispose();
            reactor.RunOnce(TimeSpan.Zero);
            victimHandler.ClosedCount.Should().Be(0, "no select has touched it yet");
            clock.Advance(reactor.ColdPace(clock));
            reactor.RunOnce(TimeSpan.Zero);

            victimHandler.Snapshot().Should().Equal("closed:DeadSocket");
            victimHandler.ClosedTask.Result.Error.Should().BeOfType<ObjectDisposedException>();
            reactor.RegistrationCount.Should().Be(1);
            SendAndWaitArrived(other);
            clock.Advance(reactor.ColdPace(clock));
            reactor.RunOnce(TimeSpan.Zero);
            otherHandler.ReadableCount.Should().Be(1, "the other cold socket is still served");
        }
    }

    [Fact]
    public void ColdSocketDisposedBehindTheReactorsBack_WhileTheLoopIsQuiet_IsEvictedByTheSelectOverEverything()
    {
        (Reactor reactor, FakeTimeProvider clock) = NewReactor();
        using var pairs = new SocketPairs(2);
        using (reactor)
        {
            RecordingHandler[] handlers = pairs.RegisterDraining(reactor);
            (SocketPair victim, RecordingHandler victimHandler) = (pairs[0], handlers[0]);
            (SocketPair other, RecordingHandler otherHandler) = (pairs[1], handlers[1]);
            reactor.RunOnce(TimeSpan.Zero);
            GoQuiet(reactor, clock);
            clock.Advance(Bound); // nothing for a whole pace: the next wait is one select over everything
            reactor.ColdCount.Should().Be(2);

            victim.Server.Dispose();
            other.Client.Send(Some);
            reactor.RunOnce(Wait.Generous);

            victimHandler.Snapshot().Should().Equal("closed:DeadSocket");
            otherHandler.ReadableCount.Should().Be(1, "the survivor is served in the same tick");
            reactor.RegistrationCount.Should().Be(1);
        }
    }

    [Fact]
    public void TlsConnections_GoingColdMidHandshakeOrOpen_AreServed_WhetherTheLoopIsQuietOrBusy()
    {
        using SocketPair busy = Loopback.Pair();
        using var running = new RunningReactor(beforeRun: r => r.UseTiers(TimeProvider.System, TimeSpan.FromMilliseconds(100), Bound));
        var server = new TcpServer(running.Reactor, new IPEndPoint(IPAddress.Loopback, 0), () => new TestEchoHandler(), new TcpServerOptions { Tls = TestCertificates.Server() });
        server.Start();
        try
        {
            running.Reactor.Register(busy.Server, Draining(), Interest.Read);
            using var open = TlsTestClient.Connect(server.LocalEndPoint!, TestCertificates.TrustingClient());
            open.Send(Some);
            open.ReadExactly(Some.Length).Should().Equal(Some);

            // A client that connects and says nothing: the server waits for its ClientHello, and goes cold waiting.
            using Socket late = Loopback.Connect(server.LocalEndPoint!, resetOnDispose: true);
            Wait.Until(() => running.Invoke(() => running.Reactor.ColdCount) == 3, "both connections and the busy socket went cold (the listener stays hot)");

            // The cold connection's ClientHello is found by a slice or by the select over everything.
            using var lateStream = new NetworkStream(late, ownsSocket: false);
            using var lateTls = new SslStream(lateStream, leaveInnerStreamOpen: true);
            lateTls.AuthenticateAsClient(TestCertificates.TrustingClient());
            lateTls.Write(Some);
            var echoed = new byte[Some.Length];
            lateTls.ReadExactly(echoed);
            echoed.Should().Equal(Some, "a handshake that went cold half way completes, and its connection echoes");

            // Busy loop (a byte every millisecond on the hot socket): cold sockets are polled in slices.
            using var stop = new CancellationTokenSource();
            var feeder = new Thread(() =>
            {
                while (!stop.IsCancellationRequested)
                {
                    busy.Client.Send(Some);
                    Thread.Sleep(1);
                }
            });
            feeder.Start();
            try
            {
                Wait.Until(() => running.Invoke(() => running.Reactor.ColdCount) == 2, "the TLS connections went cold again, the busy socket stayed hot");
                open.Send(Some);
                open.ReadExactly(Some.Length).Should().Equal(Some, "an open TLS connection that went cold echoes");
            }
            finally
            {
                stop.Cancel();
                feeder.Join(Wait.Generous);
            }

            running.LoopError.Should().BeNull();
        }
        finally
        {
            server.Stop();
        }
    }

    [Fact]
    public void WriteInterest_KeepsAQuietSocketHot_WhileAReadOnlyOneGoesCold()
    {
        (Reactor reactor, FakeTimeProvider clock) = NewReactor();
        using (reactor)
        using (SocketPair stuck = Loopback.Pair())
        using (SocketPair idle = Loopback.Pair())
        {
            FillUntilWouldBlock(stuck.Server);
            Registration writer = reactor.Register(stuck.Server, new RecordingHandler(), Interest.Read | Interest.Write);
            Registration reader = reactor.Register(idle.Server, new RecordingHandler(), Interest.Read);
            reactor.RunOnce(TimeSpan.Zero);

            GoQuiet(reactor, clock);

            writer.Cold.Should().BeFalse("a socket waiting to drain its output is busy, however quiet");
            reader.Cold.Should().BeTrue();
        }
    }

    [Fact]
    public void ListeningSocket_StaysHot_SoAConnectionIsAcceptedWithoutWaiting()
    {
        (Reactor reactor, FakeTimeProvider clock) = NewReactor();
        using (reactor)
        using (Socket listener = Loopback.Listen())
        {
            var accepted = new List<Socket>();
            var handler = new RecordingHandler { Readable = r => accepted.Add(r.Socket.Accept()) };
            Registration registration = reactor.Register(listener, handler, Interest.Read);
            reactor.RunOnce(TimeSpan.Zero);

            GoQuiet(reactor, clock);
            registration.Cold.Should().BeFalse("a listener never goes cold");
            using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
            client.Connect(listener.LocalEndPoint!);
            Wait.Until(() => listener.Poll(0, SelectMode.SelectRead), "the connection is waiting");
            reactor.RunOnce(TimeSpan.Zero);

            accepted.Should().ContainSingle("accepted in the next tick, with no pace to wait for");
            accepted[0].Dispose();
        }
    }

    [Fact]
    public void InterestChange_OnOrOffTheReactorThread_MakesAColdRegistrationHotAtOnce()
    {
        (Reactor reactor, FakeTimeProvider clock) = NewReactor();
        using (reactor)
        using (SocketPair first = Loopback.Pair())
        using (SocketPair second = Loopback.Pair())
        {
            Registration offThread = reactor.Register(first.Server, Draining(), Interest.Read);
            Registration onThread = reactor.Register(second.Server, Draining(), Interest.Read);
            reactor.RunOnce(TimeSpan.Zero);
            GoQuiet(reactor, clock);
            reactor.ColdCount.Should().Be(2);

            offThread.Interest = Interest.Read | Interest.Error; // no loop runs: this is another thread
            reactor.Post(() => onThread.Interest = Interest.Read | Interest.Error);
            reactor.RunOnce(TimeSpan.Zero);

            offThread.Cold.Should().BeFalse("the change from another thread was found among the cold");
            onThread.Cold.Should().BeFalse("the change on the reactor thread promoted it");
            reactor.ColdCount.Should().Be(0);
        }
    }

    [Fact]
    public void HotAndColdReadyInOneTick_DispatchReadableThenWritableThenError_HotBeforeColdInEach()
    {
        (Reactor reactor, FakeTimeProvider clock) = NewReactor();
        using (reactor)
        using (SocketPair cold = Loopback.Pair())
        using (SocketPair hot = Loopback.Pair())
        {
            var log = new ConcurrentQueue<string>();
            var oob = new byte[1];
            IEventHandler Logging(string name) => new RecordingHandler
            {
                Readable = r => { log.Enqueue(name + ":readable"); r.Socket.Receive(new byte[64]); },
                Writable = r => { log.Enqueue(name + ":writable"); r.Interest = Interest.Read | Interest.Error; },
                Error = r => { log.Enqueue(name + ":error"); r.Socket.Receive(oob, SocketFlags.OutOfBand); },
            };
            Registration coldRegistration = reactor.Register(cold.Server, Logging("cold"), Interest.Read | Interest.Error);
            reactor.RunOnce(TimeSpan.Zero);
            GoQuiet(reactor, clock);
            reactor.Register(hot.Server, Logging("hot"), Interest.Read | Interest.Write | Interest.Error);
            coldRegistration.Cold.Should().BeTrue();

            foreach (SocketPair pair in new[] { cold, hot })
            {
                pair.Client.Send(Some);
                pair.Client.Send([9], SocketFlags.OutOfBand);
            }

            Wait.Until(() => cold.Server.Poll(0, SelectMode.SelectError) && hot.Server.Poll(0, SelectMode.SelectError), "both urgent bytes arrived");
            clock.Advance(reactor.ColdPace(clock));
            reactor.RunOnce(TimeSpan.Zero);

            log.Should().Equal("hot:readable", "cold:readable", "hot:writable", "hot:error", "cold:error");
        }
    }

    [Fact]
    public void ColdRegistration_UnregisteredOrFaulting_GetsOnClosedOnceAndLast()
    {
        (Reactor reactor, FakeTimeProvider clock) = NewReactor();
        using (reactor)
        using (SocketPair leaving = Loopback.Pair())
        using (SocketPair faulty = Loopback.Pair())
        {
            var leavingHandler = Draining();
            var faultyHandler = new RecordingHandler { Readable = _ => throw new InvalidOperationException("on purpose") };
            Registration leavingRegistration = reactor.Register(leaving.Server, leavingHandler, Interest.Read);
            reactor.Register(faulty.Server, faultyHandler, Interest.Read);
            reactor.RunOnce(TimeSpan.Zero);
            GoQuiet(reactor, clock);
            SendAndWaitArrived(leaving);
            SendAndWaitArrived(faulty);

            leavingRegistration.Dispose(); // from the test thread: queued for the next tick
            clock.Advance(reactor.ColdPace(clock));
            reactor.RunOnce(TimeSpan.Zero);
            clock.Advance(reactor.ColdPace(clock));
            reactor.RunOnce(TimeSpan.Zero);

            leavingHandler.Snapshot().Should().Equal("closed:Unregistered");
            faultyHandler.Snapshot().Should().Equal("readable", "closed:HandlerFault");
            reactor.RegistrationCount.Should().Be(0);
            reactor.ColdCount.Should().Be(0);
        }
    }

    [Fact]
    public void ManyColdSockets_ArePolledInSlicesOfAtMost79_WithAZeroTimeout()
    {
        (Reactor reactor, FakeTimeProvider clock) = NewReactor();
        using var pairs = new SocketPairs(200);
        using (reactor)
        {
            pairs.RegisterDraining(reactor);
            reactor.RunOnce(TimeSpan.Zero);
            GoQuiet(reactor, clock);
            var calls = new List<(int Sockets, int Micros)>();
            reactor.SelectImplementation = (read, write, error, micros) =>
            {
                calls.Add(((read?.Count ?? 0) + (write?.Count ?? 0) + (error?.Count ?? 0), micros));
                Socket.Select(read, write, error, micros);
            };

            clock.Advance(reactor.ColdPace(clock));
            reactor.RunOnce(TimeSpan.Zero);

            calls.Should().Equal([(1, 0), (79, 0), (79, 0), (42, 0)], "the hot select (the wake-up socket), then one pass in three slices");
        }
    }

    [Fact]
    public void ColdSocketsNotYetPolled_AllClosingMidPass_LeaveTheRestPolledWithinThePace_WithoutSpinning()
    {
        (Reactor reactor, FakeTimeProvider clock) = NewReactor();
        using var pairs = new SocketPairs(200);
        using (reactor)
        {
            RecordingHandler[] handlers = pairs.RegisterDraining(reactor);
            reactor.RunOnce(TimeSpan.Zero);
            GoQuiet(reactor, clock);
            TimeSpan pace = reactor.ColdPace(clock);
            clock.Advance(pace / 2);
            reactor.RunOnce(TimeSpan.Zero);
            Registration[] cold = reactor.ColdRegistrations;
            int cursor = reactor.ColdCursor;
            cursor.Should().BeInRange(1, cold.Length - 1, "half a pace polls part of the pass");

            // Every socket this pass has not polled yet closes: the pass is over, and the next must begin.
            foreach (Registration registration in cold[cursor..])
            {
                registration.Dispose();
            }

            var timeouts = new List<int>();
            reactor.SelectImplementation = (read, write, error, micros) =>
            {
                timeouts.Add(micros);
                Socket.Select(read, write, error, micros);
            };
            reactor.RunOnce(TimeSpan.FromSeconds(1));
            reactor.ColdCount.Should().Be(cursor);
            timeouts.Should().ContainSingle().Which.Should().BePositive("the wait lasts until the next slice is due, not zero: no spin");

            int polledPair = Enumerable.Range(0, pairs.Count).Single(i => pairs[i].Server == cold[0].Socket);
            SendAndWaitArrived(pairs[polledPair]);
            clock.Advance(pace);
            reactor.RunOnce(TimeSpan.Zero);
            handlers[polledPair].ReadableCount.Should().Be(1, "the sockets polled before the others closed are polled again within the pace");
        }
    }

    [Fact]
    public void FewColdSockets_ArePolledAtThePaceFloor_NotEveryMillisecond()
    {
        // The reactor's own settings: a 10 ms floor under the pace, the default 40 ms bound. A pass over a few sockets
        // is one slice, polled at its end: it may take the whole bound, so the floor applies (it was 2.4 ms for 5).
        var clock = new FakeTimeProvider();
        using var reactor = new Reactor();
        reactor.UseTiers(clock, ColdAfter, TimeSpan.FromMilliseconds(10), new ReactorOptions().MaxColdSocketDelay);
        using var pairs = new SocketPairs(5);
        pairs.RegisterDraining(reactor);
        reactor.RunOnce(TimeSpan.Zero);
        GoQuiet(reactor, clock);
        reactor.ColdCount.Should().Be(5);
        var polls = new List<TimeSpan>();
        reactor.SelectImplementation = (read, write, error, micros) =>
        {
            if ((read?.Count ?? 0) == 5)
            {
                polls.Add(clock.GetElapsedTime(0));
            }

            Socket.Select(read, write, error, micros);
        };

        // A busy loop: a tick every millisecond for 200 ms.
        for (int i = 0; i < 200; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(1));
            reactor.RunOnce(TimeSpan.Zero);
        }

        reactor.ColdPace(clock).Should().BeCloseTo(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(0.1));
        polls.Should().HaveCount(20, "one slice every 10 ms");
        polls.Zip(polls.Skip(1), (a, b) => b - a).Should().OnlyContain(gap => Math.Abs((gap - TimeSpan.FromMilliseconds(10)).TotalMilliseconds) < 0.1);
    }

    [Fact]
    public void MaxColdSocketDelayZero_TurnsTieringOff()
    {
        using var off = new Reactor(new ReactorOptions { MaxColdSocketDelay = TimeSpan.Zero });
        using var on = new Reactor();

        off.TieringEnabled.Should().BeFalse();
        on.TieringEnabled.Should().BeTrue();
        new ReactorOptions().MaxColdSocketDelay.Should().Be(TimeSpan.FromMilliseconds(40));
        FluentActions.Invoking(() => new ReactorOptions { MaxColdSocketDelay = TimeSpan.FromMicroseconds(500) })
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*between 1 ms and 10 s*");
        FluentActions.Invoking(() => new ReactorOptions { MaxColdSocketDelay = TimeSpan.FromSeconds(11) })
            .Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new ReactorOptions { MaxColdSocketDelay = TimeSpan.FromSeconds(-1) })
            .Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void RealClock_IdleSocketsGoCold_AndAreServedWhetherTheLoopIsQuietOrBusy()
    {
        using var pairs = new SocketPairs(100);
        using SocketPair busy = Loopback.Pair();
        using var running = new RunningReactor(beforeRun: r => r.UseTiers(TimeProvider.System, TimeSpan.FromMilliseconds(100), Bound));
        RecordingHandler[] handlers = pairs.RegisterDraining(running.Reactor);
        RecordingHandler busyHandler = Draining();
        running.Reactor.Register(busy.Server, busyHandler, Interest.Read);
        Wait.Until(() => running.Invoke(() => running.Reactor.ColdCount) == pairs.Count + 1, "every quiet socket went cold");

        // Quiet: the loop waits in one select over everything.
        pairs[0].Client.Send(Some);
        Wait.Until(() => handlers[0].ReadableCount == 1, "the cold socket of a quiet loop was served");

        // Busy: a hot socket gets a byte every millisecond, so cold ones are polled in slices.
        using var stop = new CancellationTokenSource();
        var feeder = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                busy.Client.Send(Some);
                Thread.Sleep(1); // pacing the feed, not synchronisation
            }
        });
        int busyBefore = busyHandler.ReadableCount;
        feeder.Start();
        try
        {
            // Well past a pace (50 ms) of busy ticks: the cold ones are back to slices.
            Wait.Until(() => busyHandler.ReadableCount >= busyBefore + 100, "the loop served the busy socket a hundred times");
            pairs[50].Client.Send(Some);
            Wait.Until(() => handlers[50].ReadableCount == 1, "the cold socket of a busy loop was served");
        }
        finally
        {
            stop.Cancel();
            feeder.Join(Wait.Generous);
        }

        running.LoopError.Should().BeNull();
    }

    private static (Reactor Reactor, FakeTimeProvider Clock) NewReactor()
    {
        var clock = new FakeTimeProvider();
        var reactor = new Reactor();
        reactor.UseTiers(clock, ColdAfter, Bound);
        return (reactor, clock);
    }

    /// <summary>Past the idle period and the sweep after it: what has had no event is cold after this tick.</summary>
    private static void GoQuiet(Reactor reactor, FakeTimeProvider clock)
    {
        clock.Advance(ColdAfter + (ColdAfter / 4));
        reactor.RunOnce(TimeSpan.Zero);
    }

    private static RecordingHandler Draining() => new() { Readable = r => r.Socket.Receive(new byte[256], SocketFlags.None, out _) };

    private static void SendAndWaitArrived(SocketPair pair)
    {
        pair.Client.Send(Some);
        Wait.Until(() => pair.Server.Available > 0, "the bytes arrived");
    }

    private static void FillUntilWouldBlock(Socket socket)
    {
        socket.Blocking = false;
        var chunk = new byte[64 * 1024];
        for (int i = 0; i < 10_000; i++)
        {
            socket.Send(chunk, SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock)
            {
                return;
            }
        }

        throw new InvalidOperationException("the send buffer never filled");
    }

    /// <summary>Loopback socket pairs, disposed together.</summary>
    private sealed class SocketPairs(int count) : IDisposable
    {
        private readonly SocketPair[] _pairs = Enumerable.Range(0, count).Select(_ => Loopback.Pair()).ToArray();

        public int Count => _pairs.Length;

        public SocketPair this[int index] => _pairs[index];

        /// <summary>Registers every server side for reading with a handler that drains it; returns the handlers.</summary>
        public RecordingHandler[] RegisterDraining(Reactor reactor)
        {
            var handlers = new RecordingHandler[_pairs.Length];
            for (int i = 0; i < _pairs.Length; i++)
            {
                handlers[i] = Draining();
                reactor.Register(_pairs[i].Server, handlers[i], Interest.Read);
            }

            return handlers;
        }

        public void Dispose()
        {
            foreach (SocketPair pair in _pairs)
            {
                pair.Dispose();
            }
        }
    }
}
