using System;
using System.Threading;

namespace SelectReactor;

/// <summary>
/// A one-shot or periodic timer in a reactor's heap. Disposing it cancels it from any thread; the heap entry is
/// dropped lazily when it reaches the top (or when cancelled entries pile up, see <see cref="Reactor"/>).
/// </summary>
internal sealed class ReactorTimer : IDisposable
{
    private readonly Reactor _reactor;
    private int _cancelled;

    public ReactorTimer(Reactor reactor, Action callback, long due, long period)
    {
        _reactor = reactor;
        Callback = callback;
        Due = due;
        Period = period;
    }

    public Action Callback { get; }

    /// <summary>When it fires next, in the reactor's <see cref="TimeProvider"/> timestamp units.</summary>
    public long Due { get; set; }

    /// <summary>The period in timestamp units; 0 for a one-shot timer.</summary>
    public long Period { get; }

    public bool IsCancelled => Volatile.Read(ref _cancelled) != 0;

    /// <summary>Cancels the timer. Safe from any thread, idempotent; a callback already running finishes.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _cancelled, 1) == 0)
        {
            _reactor.OnTimerCancelled();
        }
    }

    /// <summary>Marks a fired one-shot timer as done so that a later Dispose does not count it as a heap entry.</summary>
    internal void MarkFired() => Volatile.Write(ref _cancelled, 1);
}
