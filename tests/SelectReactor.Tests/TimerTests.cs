using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using Microsoft.Extensions.Time.Testing;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests;

public sealed class TimerTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Schedule_FiresInDueOrderAndEqualDueTimesInSchedulingOrder()
    {
        using var reactor = new Reactor(new ReactorOptions { TimeProvider = _time });
        var fired = new List<string>();
        reactor.Schedule(TimeSpan.FromMilliseconds(30), () => fired.Add("30"));
        reactor.Schedule(TimeSpan.FromMilliseconds(10), () => fired.Add("10a"));
        reactor.Schedule(TimeSpan.FromMilliseconds(20), () => fired.Add("20"));
        reactor.Schedule(TimeSpan.FromMilliseconds(10), () => fired.Add("10b"));
        reactor.RunOnce(TimeSpan.Zero);

        _time.Advance(TimeSpan.FromMilliseconds(9));
        reactor.RunOnce(TimeSpan.Zero).Should().Be(0);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        reactor.RunOnce(TimeSpan.Zero).Should().Be(2);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        reactor.RunOnce(TimeSpan.Zero).Should().Be(2);

        fired.Should().Equal("10a", "10b", "20", "30");
    }

    [Fact]
    public void Schedule_DisposedBeforeDue_NeverFires()
    {
        using var reactor = new Reactor(new ReactorOptions { TimeProvider = _time });
        int fired = 0;
        IDisposable timer = reactor.Schedule(TimeSpan.FromMilliseconds(10), () => fired++);
        reactor.RunOnce(TimeSpan.Zero);

        var canceller = new Thread(timer.Dispose);
        canceller.Start();
        canceller.Join(Wait.Generous).Should().BeTrue();
        _time.Advance(TimeSpan.FromSeconds(1));
        reactor.RunOnce(TimeSpan.Zero);

        fired.Should().Be(0);
    }

    [Fact]
    public void Schedule_ZeroDelayFromInsideATimer_WaitsForTheNextTick()
    {
        using var reactor = new Reactor(new ReactorOptions { TimeProvider = _time });
        int fired = 0;
        void Again()
        {
            fired++;
            reactor.Schedule(TimeSpan.Zero, Again);
        }

        reactor.Schedule(TimeSpan.Zero, Again);

        reactor.RunOnce(TimeSpan.Zero);
        reactor.RunOnce(TimeSpan.Zero);

        fired.Should().Be(2);
    }

    [Fact]
    public void SchedulePeriodic_FixedRateWithoutDrift()
    {
        using var reactor = new Reactor(new ReactorOptions { TimeProvider = _time });
        var firedAt = new List<long>();
        DateTimeOffset start = _time.GetUtcNow();
        reactor.SchedulePeriodic(TimeSpan.FromMilliseconds(10), () => firedAt.Add((long)(_time.GetUtcNow() - start).TotalMilliseconds));

        // Each tick runs 3 ms late; a drifting timer would fire at 13, 26, 39...
        for (int i = 0; i < 5; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(i == 0 ? 13 : 10));
            reactor.RunOnce(TimeSpan.Zero);
        }

        firedAt.Should().Equal(13, 23, 33, 43, 53);
        _time.Advance(TimeSpan.FromMilliseconds(6));
        reactor.RunOnce(TimeSpan.Zero).Should().Be(0, "nothing is due at 59 ms");
        _time.Advance(TimeSpan.FromMilliseconds(1));
        reactor.RunOnce(TimeSpan.Zero).Should().Be(1, "the run due at 60 ms is on its original schedule");
    }

    [Fact]
    public void SchedulePeriodic_FallenBehind_FiresOnceNotABurst()
    {
        using var reactor = new Reactor(new ReactorOptions { TimeProvider = _time });
        int fired = 0;
        reactor.SchedulePeriodic(TimeSpan.FromMilliseconds(10), () => fired++);

        _time.Advance(TimeSpan.FromMilliseconds(105));
        reactor.RunOnce(TimeSpan.Zero);
        reactor.RunOnce(TimeSpan.Zero);
        reactor.RunOnce(TimeSpan.Zero);

        fired.Should().Be(1);
        _time.Advance(TimeSpan.FromMilliseconds(4));
        reactor.RunOnce(TimeSpan.Zero);
        fired.Should().Be(1, "the next run is due at 110 ms, keeping the phase");
        _time.Advance(TimeSpan.FromMilliseconds(1));
        reactor.RunOnce(TimeSpan.Zero);
        fired.Should().Be(2);
    }

    [Fact]
    public void SchedulePeriodic_DisposedInsideItsOwnCallback_StopsFiring()
    {
        using var reactor = new Reactor(new ReactorOptions { TimeProvider = _time });
        int fired = 0;
        IDisposable? timer = null;
        timer = reactor.SchedulePeriodic(TimeSpan.FromMilliseconds(1), () =>
        {
            fired++;
            timer!.Dispose();
        });

        for (int i = 0; i < 5; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(1));
            reactor.RunOnce(TimeSpan.Zero);
        }

        fired.Should().Be(1);
    }

    [Fact]
    public void Timer_ThrowingCallback_IsLoggedAndPeriodicKeepsRunning()
    {
        var log = new CapturingLoggerProvider();
        using var reactor = new Reactor(new ReactorOptions { TimeProvider = _time, LoggerFactory = log });
        int fired = 0;
        reactor.SchedulePeriodic(TimeSpan.FromMilliseconds(5), () =>
        {
            fired++;
            throw new InvalidOperationException("tick boom");
        });

        for (int i = 0; i < 3; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(5));
            reactor.RunOnce(TimeSpan.Zero);
        }

        fired.Should().Be(3);
        log.Count(123).Should().Be(3);
    }

    [Fact]
    public void Timer_SubMillisecondDue_SelectTimeoutIsRoundedUpToAWholeMillisecond()
    {
        using var reactor = new Reactor(new ReactorOptions { TimeProvider = _time });
        var timeouts = new List<int>();
        reactor.SelectImplementation = (r, w, e, micros) =>
        {
            timeouts.Add(micros);
            System.Net.Sockets.Socket.Select(r, w, e, 0);
        };
        reactor.Schedule(TimeSpan.FromMicroseconds(500), () => { });
        reactor.Schedule(TimeSpan.FromMicroseconds(2300), () => { });

        reactor.RunOnce(TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromMicroseconds(500));
        reactor.RunOnce(TimeSpan.FromSeconds(1));

        timeouts.Should().Equal(1000, 2000);
    }

    [Fact]
    public void Timer_SubMillisecondPeriodWithRealTime_DoesNotSpin()
    {
        using var reactor = new Reactor();
        int fired = 0;
        reactor.SchedulePeriodic(TimeSpan.FromMicroseconds(300), () => fired++);

        int ticks = 0;
        var clock = Stopwatch.StartNew();

        // At least 100 ms, and on until the timer has fired (bounded): on a loaded machine one tick can stall for
        // longer than the whole window, which is no spin but left no second tick to fire the timer in.
        while (clock.ElapsedMilliseconds < 100 || (fired == 0 && clock.Elapsed < Wait.Generous))
        {
            reactor.RunOnce(TimeSpan.FromSeconds(1));
            ticks++;
        }

        // Every tick waits at least a whole millisecond, so N ms hold at most about N ticks, not the hundreds of
        // thousands a truncated zero timeout would spin through.
        ticks.Should().BeLessThan(4 * (int)clock.ElapsedMilliseconds);
        fired.Should().BeGreaterThan(0);
    }

    [Fact]
    public void Schedule_ArgumentsAreValidated()
    {
        using var reactor = new Reactor();

        reactor.Invoking(r => r.Schedule(TimeSpan.FromTicks(-1), () => { })).Should().Throw<ArgumentOutOfRangeException>();
        reactor.Invoking(r => r.Schedule(TimeSpan.Zero, null!)).Should().Throw<ArgumentNullException>();
        reactor.Invoking(r => r.SchedulePeriodic(TimeSpan.Zero, () => { })).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Timer_ManyCancelled_HeapIsCompacted()
    {
        using var reactor = new Reactor(new ReactorOptions { TimeProvider = _time });
        var timers = new List<IDisposable>();
        reactor.Post(() =>
        {
            for (int i = 0; i < 1_000; i++)
            {
                timers.Add(reactor.Schedule(TimeSpan.FromHours(1), () => { }));
            }
        });
        reactor.RunOnce(TimeSpan.Zero);
        reactor.TimerHeapCount.Should().Be(1_000);

        timers.ForEach(t => t.Dispose());
        reactor.RunOnce(TimeSpan.Zero);

        reactor.TimerHeapCount.Should().Be(0);
    }
}
