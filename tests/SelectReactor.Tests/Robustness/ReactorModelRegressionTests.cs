using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Robustness;

/// <summary>
/// Sequences the model-based test has found or that pin down tricky interleavings, kept as plain tests. Add each new
/// failure the random test shrinks here, in the form it printed.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class ReactorModelRegressionTests
{
    [Fact]
    public void PeerSendAfterTheServerSocketWasDisposed_IsAPeerErrorNotAReactorOne()
    {
        // Found by the model: disposing a socket with linger 0 resets the peer, whose next send fails.
        ReactorModel.Run([
            new Register(Interest.Read | Interest.Error, Where.TestThread),
            new RunOnce(),
            new DisposeSocketBehindTheReactorsBack(0),
            new PeerSends(0, 1903),
            new SetInterest(0, Interest.Error, Where.OtherThread),
            new RunOnce(),
        ]);
    }

    [Fact]
    public void DeadSocketUnregisteredInTheSameTick_ClosesOnceAsUnregistered()
    {
        ReactorModel.Run([
            new Register(Interest.Read, Where.TestThread),
            new Register(Interest.Write, Where.TestThread),
            new RunOnce(),
            new DisposeSocketBehindTheReactorsBack(0),
            new Unregister(0, Where.OtherThread),
            new DisposeSocketBehindTheReactorsBack(1),
            new RunOnce(),
        ]);
    }

    [Fact]
    public void HandlerUnregistersAnotherReadyRegistration_ItGetsNoCallbackAfterward()
    {
        ReactorModel.Run([
            new Register(Interest.Write, Where.TestThread),
            new Register(Interest.Write, Where.TestThread),
            new HandlerUnregistersNext(0, 1),
            new RunOnce(),
            new HandlerSetsInterestNext(0, 0, Interest.None),
            new RunOnce(),
            new RunOnce(),
        ]);
    }

    [Fact]
    public void ThrowingHandlerThatAlsoUnregistersItself_ClosesOnce()
    {
        ReactorModel.Run([
            new Register(Interest.Write, Where.ReactorThread),
            new HandlerUnregistersNext(0, 0),
            new HandlerThrowsNext(0),
            new RunOnce(),
            new RunOnce(),
        ]);
    }

    [Fact]
    public void PeriodicTimerFarBehindAndCancelledFromAnotherThread_NoBurstNoFireAfterCancel()
    {
        ReactorModel.Run([
            new Schedule(0, 5, Where.ReactorThread),
            new Advance(57),
            new RunOnce(),
            new RunOnce(),
            new CancelTimer(0, Where.OtherThread),
            new Advance(50),
            new RunOnce(),
        ]);
    }
}
