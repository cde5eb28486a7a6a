using System;
using System.Threading;

namespace SelectReactor;

/// <summary>
/// The lists the reactor hands to <c>Socket.Select</c> (read, write, error), plus the sockets of registrations that
/// watch nothing, checked on their own. Rebuilt from the registrations only when one comes, goes or changes its
/// interest (<see cref="MarkDirty"/>, from any thread); every other tick refills them with block copies. Reactor
/// thread only, apart from <see cref="MarkDirty"/>.
/// </summary>
internal sealed class SelectSets
{
    private int _dirty;

    public SelectSets(int capacity)
    {
        Read = new SelectList(capacity);
        Write = new SelectList(capacity);
        Error = new SelectList(capacity);
        WatchingNothing = new SelectList(capacity);
    }

    /// <summary>Registrations watching for readability, writability, errors.</summary>
    public SelectList Read { get; }

    public SelectList Write { get; }

    public SelectList Error { get; }

    /// <summary>Registrations with <see cref="Interest.None"/>: in no select list, checked once in a while.</summary>
    public SelectList WatchingNothing { get; }

    /// <summary>Asks for a rebuild before the next fill. Safe from any thread.</summary>
    public void MarkDirty() => Volatile.Write(ref _dirty, 1);

    /// <summary>Takes the pending rebuild request, if any.</summary>
    public bool TakeDirty()
    {
        // A plain read first: the interlocked exchange (a full fence) is paid only in ticks that have a change.
        return Volatile.Read(ref _dirty) != 0 && Interlocked.Exchange(ref _dirty, 0) != 0;
    }

    /// <summary>Rebuilds the lists from the registrations.</summary>
    public void Rebuild(ReadOnlySpan<Registration> registrations)
    {
        Read.Clear();
        Write.Clear();
        Error.Clear();
        WatchingNothing.Clear();
        foreach (Registration registration in registrations)
        {
            int interest = registration.InterestBits;
            if (interest == 0)
            {
                WatchingNothing.Add(registration);
                continue;
            }

            if ((interest & (int)Interest.Read) != 0)
            {
                Read.Add(registration);
            }

            if ((interest & (int)Interest.Write) != 0)
            {
                Write.Add(registration);
            }

            if ((interest & (int)Interest.Error) != 0)
            {
                Error.Add(registration);
            }
        }
    }
}
