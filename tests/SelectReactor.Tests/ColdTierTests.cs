using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net.Sockets;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests;

/// <summary>
/// The cold tier's promise, checked on its own with random sequences: whatever sockets come and go, none waits longer
/// than the bound between going cold and its first poll, or between two polls. Time is simulated; the loop ticks at
/// random steps of at most <see cref="MaxStep"/>: lateness, as a real loop's (it sleeps whole milliseconds until
/// <see cref="ColdTier.NextDue"/>, rounded up). A wait may take two of them: the end of the pass before, which starts
/// the next, and its own poll.
/// </summary>
public sealed class ColdTierTests
{
    private const long Frequency = 1_000_000; // the tiers' clock in microseconds
    private const long Bound = 40_000;
    private const long MaxStep = 500;
    private static readonly int Seeds = int.TryParse(Environment.GetEnvironmentVariable("SELECTREACTOR_COLDTIER_SEEDS"), out int seeds) ? seeds : 20;

    [Theory]
    [InlineData(10_000, 1, 60)] // the reactor's floor; few sockets: one slice a pass
    [InlineData(Bound, 1, 60)] // no floor below the bound: the pace is the cap itself
    [InlineData(10_000, 20, 400)] // many slices a pass, and swings between few and many
    [InlineData(Bound, 20, 400)]
    public void NoColdSocket_WaitsLongerThanTheBound_BetweenPolls(long minPace, int low, int high)
    {
        var reactor = new Reactor();
        var sockets = Enumerable.Range(0, high).Select(_ => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)).ToArray();
        try
        {
            for (int seed = 0; seed < Seeds; seed++)
            {
                Run(reactor, sockets, new Random(seed), minPace, low, high);
            }
        }
        finally
        {
            foreach (Socket socket in sockets)
            {
                socket.Dispose();
            }

            reactor.Dispose();
        }
    }

    private static void Run(Reactor reactor, Socket[] sockets, Random random, long minPace, int low, int high)
    {
        var tier = new ColdTier(minPace, Bound, 0.1, Frequency);
        var read = new SelectList(ColdTier.SliceSize);
        var error = new SelectList(ColdTier.SliceSize);
        var lastPolled = new Dictionary<Registration, long>(); // or when it went cold
        var spare = new Stack<Socket>(sockets.Take(high));
        var handler = new RecordingHandler();
        long now = 0;
        long worst = 0;
        long costPerEntry = Stopwatch.Frequency / 2_000_000; // 0.5 µs a socket

        for (int step = 0; step < 20_000; step++)
        {
            now += random.NextInt64(1, MaxStep + 1);

            // Now and then a swing: many go cold at once, or most come back (hot, closed); otherwise one at a time.
            int target = random.Next(100) switch
            {
                0 => high,
                1 => low,
                _ => tier.Count + random.Next(-1, 2),
            };
            target = Math.Clamp(target, 0, high);
            while (tier.Count < target)
            {
                Interest interest = random.Next(2) == 0 ? Interest.Read : Interest.Read | Interest.Error;
                var registration = new Registration(reactor, spare.Pop(), handler, interest);
                tier.Add(registration, now);
                lastPolled[registration] = now;
            }

            while (tier.Count > target)
            {
                Registration leaving = tier.Registrations[random.Next(tier.Count)];
                Check(leaving, now);
                tier.Remove(leaving, now);
                lastPolled.Remove(leaving);
                spare.Push(leaving.Socket);
            }

            // As the reactor does (PollColdSlices): what is due now, whole slices at a time.
            int due = tier.Due(now);
            while (due > 0 && tier.Count > 0)
            {
                int cursor = tier.Cursor;
                int taken = tier.TakeSlice(read, error);
                foreach (Registration polled in tier.Registrations.Slice(cursor, taken))
                {
                    Check(polled, now);
                    lastPolled[polled] = now;
                }

                int entries = read.Count + error.Count;
                tier.Polled(taken, entries, entries * costPerEntry, now);
                due = tier.Due(now);
            }

            tier.NextDue().Should().BeGreaterThan(now, "whatever is due has been polled");
        }

        foreach (Registration registration in tier.Registrations.ToArray())
        {
            Check(registration, now);
        }

        worst.Should().BeGreaterThan(Bound / 4, "the sequence exercised the bound");

        void Check(Registration registration, long at)
        {
            long waited = at - lastPolled[registration];
            worst = Math.Max(worst, waited);
            waited.Should().BeLessThanOrEqualTo(Bound + (2 * MaxStep), $"a cold socket is polled within the bound (pace {tier.Pace} µs, {tier.Count} cold)");
        }
    }
}
