using System;
using System.Runtime.CompilerServices;

namespace SelectReactor;

public sealed partial class Reactor
{
    // Work asked for during the running callback (connections with batched output), run as the callback returns:
    // after each readiness callback, posted action, timer callback and OnClosed. With nothing asked for, the check
    // is one field read per callback.
    private EndOfCallbackWork[] _endOfCallback = new EndOfCallbackWork[16];
    private int _endOfCallbackCount;

    /// <summary>What the connections on this reactor share between callbacks: a spare send segment, the gather list.</summary>
    internal SendScratch SendScratch { get; } = new();

    /// <summary>
    /// Runs <paramref name="work"/> once the current callback returns. Reactor thread only. The caller keeps its own
    /// flag so that it asks once per callback; asking again from inside <see cref="IEndOfCallback.OnEndOfCallback"/>
    /// runs it again in the same pass.
    /// </summary>
    internal void RunAtEndOfCallback(IEndOfCallback work)
    {
        if (_endOfCallbackCount == _endOfCallback.Length)
        {
            Array.Resize(ref _endOfCallback, _endOfCallback.Length * 2);
        }

        _endOfCallback[_endOfCallbackCount++].Work = work;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EndOfCallback()
    {
        if (_endOfCallbackCount != 0)
        {
            RunEndOfCallbackWork();
        }
    }

    private void RunEndOfCallbackWork()
    {
        // Work may ask for more (a flush that drains calls OnDrained, whose handler may send elsewhere): the count is
        // re-read each turn, so that runs in this same pass.
        for (int i = 0; i < _endOfCallbackCount; i++)
        {
            ref EndOfCallbackWork entry = ref _endOfCallback[i];
            IEndOfCallback work = entry.Work!;
            entry.Work = null;
            work.OnEndOfCallback();
        }

        _endOfCallbackCount = 0;
    }

    /// <summary>A struct around the reference, so storing it skips the array-covariance check an interface array pays.</summary>
    private struct EndOfCallbackWork
    {
        public IEndOfCallback? Work;
    }
}
