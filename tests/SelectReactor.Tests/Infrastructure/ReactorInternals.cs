using System;
using System.Collections.Generic;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace SelectReactor.Tests.Infrastructure;

/// <summary>
/// What tests read from a reactor's insides, through accessors the runtime binds to its private fields: the library
/// carries no members that exist only for tests. A renamed field fails these tests loudly (MissingFieldException).
/// </summary>
internal static class ReactorInternals
{
    extension(Reactor reactor)
    {
        /// <summary>The wake-up socket, for tests that kill it or check that nothing was sent.</summary>
        public Socket WakeupSocketForTests => Wakeup(reactor).Socket;

        /// <summary>Entries in the timer heap, cancelled ones included.</summary>
        public int TimerHeapCount => Timers(reactor).Count;

        /// <summary>
        /// Replaces the reactor's tiers, before anything is registered, with tiers on <paramref name="clock"/> whose
        /// registrations go cold after <paramref name="coldAfter"/> and whose cold sockets wait at most
        /// <paramref name="bound"/> (the pace is then fixed: the bound, less a slice's worth of slack).
        /// </summary>
        public void UseTiers(TimeProvider clock, TimeSpan coldAfter, TimeSpan bound) => reactor.UseTiers(clock, coldAfter, bound, bound);

        /// <summary>Tiers on <paramref name="clock"/> with a floor under the pace, as the reactor has.</summary>
        public void UseTiers(TimeProvider clock, TimeSpan coldAfter, TimeSpan minPace, TimeSpan bound) =>
            Tiers(reactor) = new SocketTiers(clock, coldAfter, minPace, bound, 0.1);

        /// <summary>The pace of the cold tier now: the longest a pass over the cold sockets takes.</summary>
        public TimeSpan ColdPace(TimeProvider clock) => TimeSpan.FromSeconds(Tiers(reactor).Cold.Pace / (double)clock.TimestampFrequency);

        /// <summary>Registrations in the cold tier.</summary>
        public int ColdCount => Tiers(reactor).Cold.Count;

        /// <summary>The cold registrations in the order of the pass: those before ColdCursor have been polled in it.</summary>
        public Registration[] ColdRegistrations => Tiers(reactor).Cold.Registrations.ToArray();

        /// <summary>How many cold registrations have been polled in this pass.</summary>
        public int ColdCursor => Tiers(reactor).Cold.Cursor;

        /// <summary>Whether registrations ever go cold (false with <see cref="ReactorOptions.MaxColdSocketDelay"/> zero).</summary>
        public bool TieringEnabled => Tiers(reactor).Enabled;
    }

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_wakeup")]
    private static extern ref WakeupSocket Wakeup(Reactor reactor);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_tiers")]
    private static extern ref SocketTiers Tiers(Reactor reactor);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_timers")]
    private static extern ref PriorityQueue<ReactorTimer, TimerKey> Timers(Reactor reactor);
}
