using System;
using System.Collections;
using System.Diagnostics;
using System.Net.Sockets;
using System.Threading;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests;

/// <summary>Faults injected through the internal seam around Socket.Select.</summary>
public sealed class SelectFailureTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Select_FailsWithACulpritThatIsNotDisposed_OnlyTheCulpritIsEvicted(bool objectDisposed)
    {
        using var reactor = new Reactor();
        using var fleet = new EchoFleet(reactor, 5);
        using SocketPair culpritPair = Loopback.Pair();
        var culprit = new RecordingHandler();
        reactor.Register(culpritPair.Server, culprit, Interest.Read);
        Exception injected = objectDisposed ? new ObjectDisposedException("injected") : new SocketException((int)SocketError.NotSocket);
        reactor.SelectImplementation = (r, w, e, micros) =>
        {
            if (r is not null && r.Contains(culpritPair.Server))
            {
                throw injected;
            }

            Socket.Select(r, w, e, micros);
        };
        fleet.Pairs[2].Client.Send(new byte[] { 9 });
        Wait.Until(() => fleet.Pairs[2].Server.Available > 0, "the byte arrived");

        reactor.RunOnce(Wait.Generous);

        culprit.Snapshot().Should().Equal("closed:DeadSocket");
        culprit.WaitClosed().Error.Should().BeSameAs(injected);
        fleet.Handlers[2].ReadableCount.Should().Be(1);
        fleet.Handlers.Should().OnlyContain(h => h.ClosedCount == 0);
    }

    [Fact]
    public void Select_FailsWithNoCulprit_BacksOffThenRunThrowsAfterBoundedAttempts()
    {
        var log = new CapturingLoggerProvider();
        using var reactor = new Reactor(new ReactorOptions { LoggerFactory = log });
        using SocketPair pair = Loopback.Pair();
        var handler = new RecordingHandler();
        reactor.Register(pair.Server, handler, Interest.Read);
        int selects = 0;
        reactor.SelectImplementation = (r, w, e, micros) =>
        {
            bool probe = micros == 0 && Count(r) + Count(w) + Count(e) == 1;
            if (!probe)
            {
                Interlocked.Increment(ref selects);
                throw new SocketException((int)SocketError.InvalidArgument);
            }

            Socket.Select(r, w, e, micros);
        };
        var clock = Stopwatch.StartNew();

        Exception? thrown = Record.Exception(() => reactor.Run());

        thrown.Should().BeOfType<InvalidOperationException>().Which.InnerException.Should().BeOfType<SocketException>();
        selects.Should().Be(Reactor.MaxConsecutiveSelectFailures, "each failing tick backs off instead of spinning");
        // 10 + 20 + 40 + 80 ms of back-off. Each timed wait may end up to a coarse clock tick (4 ms here) early, so
        // the bound allows for that; a spinning loop would take a few milliseconds in all.
        clock.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(130), "backing off 10 + 20 + 40 + 80 ms");
        log.Count(111).Should().Be(Reactor.MaxConsecutiveSelectFailures);
        handler.ClosedCount.Should().Be(0, "nothing was evicted: no socket was to blame");
    }

    [Fact]
    public void Select_FailureThenRecovery_ResetsTheFailureCount()
    {
        using var reactor = new Reactor();
        using SocketPair pair = Loopback.Pair();
        reactor.Register(pair.Server, new RecordingHandler(), Interest.Read);
        int calls = 0;
        reactor.SelectImplementation = (r, w, e, micros) =>
        {
            // Fail every other non-probe call: never MaxConsecutiveSelectFailures in a row.
            if (!(micros == 0 && Count(r) == 1 && Count(w) + Count(e) == 0) && Interlocked.Increment(ref calls) % 2 == 1)
            {
                throw new SocketException((int)SocketError.InvalidArgument);
            }

            Socket.Select(r, w, e, 0);
        };

        for (int i = 0; i < 12; i++)
        {
            reactor.RunOnce(TimeSpan.Zero);
        }

        calls.Should().Be(12);
    }

    [Fact]
    public void Select_WakeupSocketKilled_IsRecreatedAndPostsStillWake()
    {
        using var running = new RunningReactor(new ReactorOptions { MaxSelectTimeout = TimeSpan.FromSeconds(30) });
        running.Invoke(() => 0);

        running.Invoke(() => { running.Reactor.WakeupSocketForTests.Dispose(); return 0; });

        running.Invoke(() => 1).Should().Be(1);
        running.Invoke(() => 2).Should().Be(2);
        running.LoopError.Should().BeNull();
    }

    private static int Count(IList? list) => list?.Count ?? 0;
}
