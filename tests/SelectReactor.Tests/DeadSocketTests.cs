using System;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests;

public sealed class DeadSocketTests
{
    private const int Survivors = 50;

    [Fact]
    public void Select_SocketDisposedFromAnotherThread_IsEvictedAndFiftyOthersKeepEchoing()
    {
        var log = new CapturingLoggerProvider();
        using var running = new RunningReactor(new ReactorOptions { LoggerFactory = log });
        using var fleet = new EchoFleet(running.Reactor, Survivors);
        using SocketPair victimPair = Loopback.Pair();
        var victim = new RecordingHandler();
        running.Reactor.Register(victimPair.Server, victim, Interest.Read);
        fleet.AssertAllEcho("before");

        victimPair.Server.Dispose();

        (CloseReason reason, Exception? error) = victim.WaitClosed();
        reason.Should().Be(CloseReason.DeadSocket);
        error.Should().BeOfType<ObjectDisposedException>();
        fleet.AssertAllEcho("after");
        fleet.Handlers.Should().OnlyContain(h => h.ClosedCount == 0);
        running.Reactor.RegistrationCount.Should().Be(Survivors);
        log.Count(110).Should().Be(1, "the eviction is logged once, at Warning");
        running.LoopError.Should().BeNull();
    }

    [Fact]
    public void Select_SocketDisposedInsideAHandler_IsEvictedAndOthersKeepEchoing()
    {
        using var running = new RunningReactor();
        using var fleet = new EchoFleet(running.Reactor, Survivors);
        using SocketPair victimPair = Loopback.Pair();
        var victim = new RecordingHandler { Readable = r => r.Socket.Dispose() };
        running.Reactor.Register(victimPair.Server, victim, Interest.Read);

        victimPair.Client.Send(new byte[1]);

        victim.WaitClosed().Reason.Should().Be(CloseReason.DeadSocket);
        fleet.AssertAllEcho("after");
        victim.Snapshot().Should().Equal("readable", "closed:DeadSocket");
    }

    [Fact]
    public void Select_SocketDisposedBetweenTicks_IsEvictedInTheSameTickThatServesTheOthers()
    {
        using var reactor = new Reactor();
        using var fleet = new EchoFleet(reactor, Survivors);
        using SocketPair victimPair = Loopback.Pair();
        var victim = new RecordingHandler();
        reactor.Register(victimPair.Server, victim, Interest.Read | Interest.Write);
        reactor.RunOnce(TimeSpan.Zero);
        fleet.Pairs[7].Client.Send(new byte[] { 42 });
        Wait.Until(() => fleet.Pairs[7].Server.Available > 0, "the byte arrived");

        victimPair.Server.Dispose();
        reactor.RunOnce(Wait.Generous);

        victim.Snapshot().Should().EndWith("closed:DeadSocket");
        victim.ClosedCount.Should().Be(1);
        fleet.Handlers[7].ReadableCount.Should().Be(1, "the survivor was served in the tick that evicted the dead socket");
        reactor.RegistrationCount.Should().Be(Survivors);
    }

    [Fact]
    public void Select_TwoSocketsDeadInOneTick_BothEvictedOthersServed()
    {
        using var reactor = new Reactor();
        using var fleet = new EchoFleet(reactor, 10);
        using SocketPair first = Loopback.Pair();
        using SocketPair second = Loopback.Pair();
        var firstHandler = new RecordingHandler();
        var secondHandler = new RecordingHandler();
        reactor.Register(first.Server, firstHandler, Interest.Read);
        reactor.Register(second.Server, secondHandler, Interest.Write | Interest.Error);
        fleet.Pairs[3].Client.Send(new byte[] { 1 });
        Wait.Until(() => fleet.Pairs[3].Server.Available > 0, "the byte arrived");

        first.Server.Dispose();
        second.Server.Dispose();
        reactor.RunOnce(Wait.Generous);

        firstHandler.Snapshot().Should().Equal("closed:DeadSocket");
        secondHandler.Snapshot().Should().Equal("closed:DeadSocket");
        fleet.Handlers[3].ReadableCount.Should().Be(1);
        reactor.RegistrationCount.Should().Be(10);
        fleet.Registrations.Should().OnlyContain(r => r.IsActive);
    }

    [Fact]
    public void Select_DeadSocketWithNoInterest_IsNotBlamedForAnotherSocketsDeath()
    {
        using var reactor = new Reactor();
        using SocketPair quiet = Loopback.Pair();
        using SocketPair dying = Loopback.Pair();
        var quietHandler = new RecordingHandler();
        var dyingHandler = new RecordingHandler();
        reactor.Register(quiet.Server, quietHandler, Interest.None);
        reactor.Register(dying.Server, dyingHandler, Interest.Read);

        dying.Server.Dispose();
        reactor.RunOnce(TimeSpan.Zero);

        dyingHandler.ClosedCount.Should().Be(1);
        quietHandler.ClosedCount.Should().Be(0);
    }

    [Fact]
    public void Probe_DeadSocketWatchingNothing_IsEvictedWhenAnotherDeathTriggersTheProbe()
    {
        using var reactor = new Reactor();
        using SocketPair silent = Loopback.Pair();
        using SocketPair loud = Loopback.Pair();
        var silentHandler = new RecordingHandler();
        var loudHandler = new RecordingHandler();
        reactor.Register(silent.Server, silentHandler, Interest.None);
        reactor.Register(loud.Server, loudHandler, Interest.Read);

        silent.Server.Dispose();
        loud.Server.Dispose();
        reactor.RunOnce(TimeSpan.Zero);

        silentHandler.Snapshot().Should().Equal("closed:DeadSocket");
        loudHandler.Snapshot().Should().Equal("closed:DeadSocket");
        reactor.RegistrationCount.Should().Be(0);
    }

    [Fact]
    public void Select_DeadSocket_ItsSocketCanBeReplacedByANewRegistration()
    {
        using var reactor = new Reactor();
        using SocketPair pair = Loopback.Pair();
        var handler = new RecordingHandler();
        reactor.Register(pair.Server, handler, Interest.Read);
        pair.Server.Dispose();
        reactor.RunOnce(TimeSpan.Zero);
        using SocketPair replacement = Loopback.Pair();

        Registration again = reactor.Register(replacement.Server, new RecordingHandler(), Interest.Read);

        again.IsActive.Should().BeTrue();
        reactor.RegistrationCount.Should().Be(1);
        reactor.RunOnce(TimeSpan.Zero);
    }
}
