using System;
using System.Net.Sockets;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests;

public sealed class LifetimeTests
{
    [Fact]
    public void OnClosed_Unregistered_ExactlyOnceEvenWhenDisposedTwice()
    {
        using var reactor = new Reactor();
        using SocketPair pair = Loopback.Pair();
        var handler = new RecordingHandler();
        Registration registration = reactor.Register(pair.Server, handler, Interest.Read);
        reactor.RunOnce(TimeSpan.Zero);

        registration.Dispose();
        registration.Dispose();
        reactor.RunOnce(TimeSpan.Zero);
        reactor.RunOnce(TimeSpan.Zero);

        handler.Snapshot().Should().Equal("closed:Unregistered");
        registration.IsActive.Should().BeFalse();
        reactor.RegistrationCount.Should().Be(0);
        pair.Server.Connected.Should().BeTrue("unregistering does not close the socket");
    }

    [Fact]
    public void OnClosed_DeadSocket_ExactlyOnceWithTheException()
    {
        using var reactor = new Reactor();
        using SocketPair pair = Loopback.Pair();
        var handler = new RecordingHandler();
        Registration registration = reactor.Register(pair.Server, handler, Interest.Read);

        pair.Server.Dispose();
        reactor.RunOnce(TimeSpan.Zero);
        registration.Dispose();
        reactor.RunOnce(TimeSpan.Zero);

        handler.Snapshot().Should().Equal("closed:DeadSocket");
        handler.WaitClosed().Error.Should().BeOfType<ObjectDisposedException>();
    }

    [Fact]
    public void OnClosed_HandlerFault_ExactlyOnceWithTheExceptionAndOthersGoOn()
    {
        var log = new CapturingLoggerProvider();
        using var reactor = new Reactor(new ReactorOptions { LoggerFactory = log });
        using SocketPair faulty = Loopback.Pair();
        using var fleet = new EchoFleet(reactor, 3);
        var boom = new InvalidOperationException("boom");
        var handler = new RecordingHandler { Readable = _ => throw boom };
        reactor.Register(faulty.Server, handler, Interest.Read);
        faulty.Client.Send(new byte[1]);
        Wait.Until(() => faulty.Server.Available > 0, "the byte arrived");

        reactor.RunOnce(Wait.Generous);
        reactor.RunOnce(TimeSpan.Zero);

        handler.Snapshot().Should().Equal("readable", "closed:HandlerFault");
        handler.WaitClosed().Error.Should().BeSameAs(boom);
        log.Count(120).Should().Be(1);
        var entry = System.Linq.Enumerable.Single(log.Entries, e => e.EventId == 120);
        entry.Message.Should().Contain(faulty.Server.LocalEndPoint!.ToString()).And.Contain(faulty.Server.RemoteEndPoint!.ToString());
        entry.Exception.Should().BeSameAs(boom);
        fleet.Pairs[0].Client.Send(new byte[] { 5 });
        var echoed = new byte[1];
        DispatchTests.RunUntil(reactor, () => fleet.Pairs[0].Client.Available > 0);
        fleet.Pairs[0].Client.Receive(echoed);
        echoed[0].Should().Be(5);
    }

    [Fact]
    public void OnClosed_ReactorDisposed_ExactlyOnceForActiveAndQueuedRegistrations()
    {
        var reactor = new Reactor();
        using SocketPair applied = Loopback.Pair();
        using SocketPair queued = Loopback.Pair();
        var appliedHandler = new RecordingHandler();
        var queuedHandler = new RecordingHandler();
        reactor.Register(applied.Server, appliedHandler, Interest.Read);
        reactor.RunOnce(TimeSpan.Zero);
        reactor.Register(queued.Server, queuedHandler, Interest.Read);

        reactor.Dispose();
        reactor.Dispose();

        appliedHandler.Snapshot().Should().Equal("closed:ReactorDisposed");
        queuedHandler.Snapshot().Should().Equal("closed:ReactorDisposed");
        reactor.RegistrationCount.Should().Be(0);
    }

    [Fact]
    public void OnClosed_ThrowingOnClosed_IsLoggedAndTheLoopGoesOn()
    {
        var log = new CapturingLoggerProvider();
        using var reactor = new Reactor(new ReactorOptions { LoggerFactory = log });
        using SocketPair pair = Loopback.Pair();
        var handler = new RecordingHandler { Closed = (_, _, _) => throw new InvalidOperationException("bad close") };
        Registration registration = reactor.Register(pair.Server, handler, Interest.Read);
        reactor.RunOnce(TimeSpan.Zero);

        registration.Dispose();
        reactor.RunOnce(TimeSpan.Zero);

        handler.ClosedCount.Should().Be(1);
        log.Count(121).Should().Be(1);
        reactor.RunOnce(TimeSpan.Zero).Should().Be(0);
    }

    [Fact]
    public void Unregister_SelfInsideCallback_NoFurtherCallbacksAndClosedComesLast()
    {
        using var reactor = new Reactor();
        using SocketPair pair = Loopback.Pair();
        var handler = new RecordingHandler();
        handler.Readable = r =>
        {
            r.Dispose();
            handler.ClosedCount.Should().Be(0, "OnClosed never re-enters a running callback");
        };
        reactor.Register(pair.Server, handler, Interest.Read | Interest.Write | Interest.Error);
        pair.Client.Send(new byte[1]);
        Wait.Until(() => pair.Server.Available > 0, "the byte arrived");

        reactor.RunOnce(Wait.Generous);

        handler.Snapshot().Should().Equal("readable", "closed:Unregistered");
    }

    [Fact]
    public void Unregister_AnotherRegistrationReadyInTheSameTick_ItsCallbackIsNeverDelivered()
    {
        using var reactor = new Reactor();
        using SocketPair first = Loopback.Pair();
        using SocketPair second = Loopback.Pair();
        var secondHandler = new RecordingHandler();
        Registration? secondRegistration = null;
        var firstHandler = new RecordingHandler { Readable = _ => secondRegistration!.Dispose() };
        reactor.Register(first.Server, firstHandler, Interest.Read);
        secondRegistration = reactor.Register(second.Server, secondHandler, Interest.Read | Interest.Write);
        first.Client.Send(new byte[1]);
        second.Client.Send(new byte[1]);
        Wait.Until(() => first.Server.Available > 0 && second.Server.Available > 0, "both bytes arrived");

        reactor.RunOnce(Wait.Generous);

        firstHandler.Snapshot().Should().Equal("readable");
        secondHandler.Snapshot().Should().Equal("closed:Unregistered");
    }

    [Fact]
    public void Unregister_FromAnotherThread_ClosesOnTheReactorThread()
    {
        using var running = new RunningReactor(new ReactorOptions { MaxSelectTimeout = TimeSpan.FromSeconds(30) });
        using SocketPair pair = Loopback.Pair();
        var handler = new RecordingHandler();
        Registration registration = running.Reactor.Register(pair.Server, handler, Interest.Read);
        running.Invoke(() => 0);

        registration.Dispose();

        handler.WaitClosed().Reason.Should().Be(CloseReason.Unregistered);
        registration.IsActive.Should().BeFalse();
        handler.CallbackThreads.Should().OnlyContain(id => id == running.ThreadId);
        running.Reactor.RegistrationCount.Should().Be(0);
    }

    [Fact]
    public void Unregister_BeforeTheQueuedRegistrationIsApplied_StillClosesOnce()
    {
        using var reactor = new Reactor();
        using SocketPair pair = Loopback.Pair();
        var handler = new RecordingHandler();
        Registration registration = reactor.Register(pair.Server, handler, Interest.Read);

        registration.Dispose();
        reactor.RunOnce(TimeSpan.Zero);

        handler.Snapshot().Should().Equal("closed:Unregistered");
        reactor.RegistrationCount.Should().Be(0);
    }

    [Fact]
    public void Register_InsideACallback_TakesPartInTheNextTick()
    {
        using var reactor = new Reactor();
        using SocketPair trigger = Loopback.Pair();
        using SocketPair late = Loopback.Pair();
        var lateHandler = new RecordingHandler();
        var triggerHandler = new RecordingHandler
        {
            Readable = r =>
            {
                r.Interest = Interest.None;
                r.Reactor.Register(late.Server, lateHandler, Interest.Write);
                r.Reactor.IsOnReactorThread.Should().BeTrue();
            },
        };
        reactor.Register(trigger.Server, triggerHandler, Interest.Read);
        trigger.Client.Send(new byte[1]);

        DispatchTests.RunUntil(reactor, () => lateHandler.WritableCount > 0);

        reactor.RegistrationCount.Should().Be(2);
    }

    [Fact]
    public void Register_ArgumentsAreValidated()
    {
        using var reactor = new Reactor();
        using SocketPair pair = Loopback.Pair();
        var disposed = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        disposed.Dispose();

        reactor.Invoking(r => r.Register(null!, new RecordingHandler(), Interest.Read)).Should().Throw<ArgumentNullException>();
        reactor.Invoking(r => r.Register(pair.Server, (IEventHandler)null!, Interest.Read)).Should().Throw<ArgumentNullException>();
        reactor.Invoking(r => r.Register(disposed, new RecordingHandler(), Interest.Read)).Should().Throw<ArgumentException>().WithParameterName("socket");
        reactor.Invoking(r => r.Register(pair.Server, new RecordingHandler(), (Interest)16)).Should().Throw<ArgumentOutOfRangeException>();
        reactor.RegistrationCount.Should().Be(0);
    }

    [Fact]
    public void Register_SameSocketTwice_IsAnInvalidOperation()
    {
        using var reactor = new Reactor();
        using SocketPair pair = Loopback.Pair();
        reactor.Register(pair.Server, new RecordingHandler(), Interest.Read);

        reactor.Invoking(r => r.Register(pair.Server, new RecordingHandler(), Interest.Write)).Should().Throw<InvalidOperationException>();
        reactor.RegistrationCount.Should().Be(1);
    }

    [Fact]
    public void Register_SetsTheSocketNonBlocking()
    {
        using var reactor = new Reactor();
        using SocketPair pair = Loopback.Pair();

        reactor.Register(pair.Server, new RecordingHandler(), Interest.Read);

        pair.Server.Blocking.Should().BeFalse();
    }
}
