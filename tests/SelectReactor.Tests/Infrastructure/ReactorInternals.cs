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
    }

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_wakeup")]
    private static extern ref WakeupSocket Wakeup(Reactor reactor);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_timers")]
    private static extern ref PriorityQueue<ReactorTimer, TimerKey> Timers(Reactor reactor);
}
