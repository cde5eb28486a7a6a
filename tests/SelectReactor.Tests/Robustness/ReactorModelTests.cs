using System;
using System.Globalization;
using System.Linq;
using CsCheck;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Robustness;

/// <summary>
/// Model-based random testing: random sequences of registrations, interest changes, unregistrations (on and off the
/// reactor thread), sockets disposed behind the reactor's back, peer sends, half-closes and resets, throwing
/// handlers, posts, timers, clock advances and ticks, checked against <see cref="ReactorModel"/> after every tick.
/// The reactor's tiers run on the same fake clock with short periods (cold after 20 ms, a 10 ms bound), so the
/// sequences move registrations between the hot and cold tiers all the time; the model checks that a dead cold
/// socket is evicted within the bound and, at the end, that every byte a peer sent was delivered.
/// CsCheck shrinks a failure to a minimal sequence and prints it with its seed.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class ReactorModelTests
{
    private static readonly Gen<Where> AnyWhere = Gen.OneOf(Where.TestThread, Where.OtherThread, Where.ReactorThread);
    private static readonly Gen<Interest> AnyInterest = Gen.Int[0, 7].Select(i => (Interest)i);
    private static readonly Gen<int> AnyIndex = Gen.Int[0, 1_000];

    private static readonly Gen<Op> AnyOp = Gen.Frequency(
        (6, Gen.Select(AnyInterest, AnyWhere, (i, w) => (Op)new Register(i, w))),
        (4, Gen.Select(AnyIndex, AnyInterest, AnyWhere, (x, i, w) => (Op)new SetInterest(x, i, w))),
        (2, Gen.Select(AnyIndex, AnyWhere, (x, w) => (Op)new Unregister(x, w))),
        (2, AnyIndex.Select(x => (Op)new DisposeSocketBehindTheReactorsBack(x))),
        (3, Gen.Select(AnyIndex, Gen.Int[1, 2_000], (x, n) => (Op)new PeerSends(x, n))),
        (1, AnyIndex.Select(x => (Op)new PeerHalfCloses(x))),
        (1, AnyIndex.Select(x => (Op)new PeerResets(x))),
        (2, AnyIndex.Select(x => (Op)new HandlerThrowsNext(x))),
        (2, Gen.Select(AnyIndex, AnyIndex, AnyInterest, (x, y, i) => (Op)new HandlerSetsInterestNext(x, y, i))),
        (2, Gen.Select(AnyIndex, AnyIndex, (x, y) => (Op)new HandlerUnregistersNext(x, y))),
        (3, AnyWhere.Select(w => (Op)new Post(w))),
        (3, Gen.Select(Gen.Int[0, 50], Gen.OneOf(0, 0, 5, 20), AnyWhere, (d, p, w) => (Op)new Schedule(d, p, w))),
        (2, Gen.Select(AnyIndex, AnyWhere, (x, w) => (Op)new CancelTimer(x, w))),
        (3, Gen.Int[0, 60].Select(ms => (Op)new Advance(ms))),
        (6, Gen.Const((Op)new RunOnce())));

    [Fact]
    public void Reactor_RandomOperationSequences_KeepEveryPromise()
    {
        long iterations = long.TryParse(Environment.GetEnvironmentVariable("SELECTREACTOR_MODEL_ITERATIONS"), NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? n : 2_000;
        string? seed = Environment.GetEnvironmentVariable("SELECTREACTOR_MODEL_SEED");

        AnyOp.Array[1, 40].Sample(
            ops => ReactorModel.Run(ops),
            seed: seed,
            iter: iterations,
            threads: 1,
            print: ops => Environment.NewLine + string.Join(Environment.NewLine, ops.Select(o => "  " + o)));
    }
}
