using System;
using System.Collections.Generic;
using System.Linq;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests;

/// <summary>A socket belongs to at most one active registration in the process, and unregistering frees it at once.</summary>
public sealed class RegistrationOwnershipTests
{
    [Fact]
    public void Register_SocketActiveOnAnotherReactor_IsRefusedNamingThatReactor()
    {
        using var first = new Reactor(new ReactorOptions { Name = "first" });
        using var second = new Reactor(new ReactorOptions { Name = "second" });
        using SocketPair pair = Loopback.Pair();
        first.Register(pair.Server, new RecordingHandler(), Interest.Read);

        Action again = () => second.Register(pair.Server, new RecordingHandler(), Interest.Read);

        again.Should().Throw<InvalidOperationException>().WithMessage("*already registered*reactor 'first'*");
        second.RegistrationCount.Should().Be(0);
    }

    [Fact]
    public void Register_SameSocketTwiceOnOneReactor_IsRefused()
    {
        using var reactor = new Reactor();
        using SocketPair pair = Loopback.Pair();
        reactor.Register(pair.Server, new RecordingHandler(), Interest.Read);

        Action again = () => reactor.Register(pair.Server, new RecordingHandler(), Interest.Read);

        again.Should().Throw<InvalidOperationException>().WithMessage("*already registered*");
        reactor.RegistrationCount.Should().Be(1);
    }

    [Fact]
    public void Register_OnAnotherReactorAfterTheFirstRegistrationClosed_IsAccepted()
    {
        using var first = new Reactor();
        using var second = new Reactor();
        using SocketPair pair = Loopback.Pair();
        var firstHandler = new RecordingHandler();
        first.Register(pair.Server, firstHandler, Interest.Read).Dispose();
        first.RunOnce(TimeSpan.Zero);

        Registration moved = second.Register(pair.Server, new RecordingHandler(), Interest.Read);

        moved.IsActive.Should().BeTrue();
        firstHandler.Snapshot().Should().Equal("closed:Unregistered");
    }

    [Fact]
    public void Register_RightAfterDisposeFromAnotherThread_TakesEffectInCallOrderEveryTime()
    {
        const int Rounds = 300; // the race it guards lost 10-15% of rounds: 300 rounds cannot all pass by luck
        using var running = new RunningReactor();
        using SocketPair pair = Loopback.Pair();
        var handlers = new List<RecordingHandler>();
        Registration? current = null;

        for (int round = 0; round < Rounds; round++)
        {
            var handler = new RecordingHandler();
            handlers.Add(handler);
            current?.Dispose();
            current = running.Reactor.Register(pair.Server, handler, Interest.Read);
        }

        running.Invoke(() => 0);
        current!.IsActive.Should().BeTrue();
        running.Reactor.RegistrationCount.Should().Be(1);
        handlers.Take(Rounds - 1).Should().OnlyContain(h => h.Snapshot().SequenceEqual(new[] { "closed:Unregistered" }));
        handlers[^1].ClosedCount.Should().Be(0);
        running.LoopError.Should().BeNull();
    }

    [Fact]
    public void Dispose_QueuedRegistrationThenReactorDisposed_ClosesOnceAsUnregistered()
    {
        var reactor = new Reactor();
        using SocketPair pair = Loopback.Pair();
        var handler = new RecordingHandler();
        Registration queued = reactor.Register(pair.Server, handler, Interest.Read); // no loop runs: it waits in the queue
        queued.Dispose();

        reactor.Dispose();

        handler.Snapshot().Should().Equal(["closed:Unregistered"], "its owner unregistered it before the reactor went");
    }

    [Fact]
    public void Register_RightAfterDisposeOnAnotherReactor_TheOldRegistrationNeverDispatchesAgain()
    {
        using var first = new RunningReactor();
        using var second = new RunningReactor();
        using SocketPair pair = Loopback.Pair();
        var oldHandler = new RecordingHandler();
        var newHandler = new RecordingHandler { Readable = r => r.Socket.Receive(new byte[16]) };
        Registration old = first.Reactor.Register(pair.Server, oldHandler, Interest.Read);
        first.Invoke(() => 0);

        old.Dispose();
        second.Reactor.Register(pair.Server, newHandler, Interest.Read);
        pair.Client.Send(new byte[] { 1 });

        Wait.Until(() => newHandler.ReadableCount > 0, "the new registration saw the byte");
        first.Invoke(() => 0);
        oldHandler.Snapshot().Should().Equal("closed:Unregistered");
    }
}
