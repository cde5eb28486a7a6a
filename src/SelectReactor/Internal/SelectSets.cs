using System;
using System.Threading;

namespace SelectReactor;

/// <summary>
/// The lists the reactor hands to <c>Socket.Select</c>, by what they cover: the hot sockets (every tick), everything
/// (the one select of a loop that has nothing to do for a while), and the slice of cold sockets being polled; plus
/// the sockets of registrations that watch nothing, checked on their own. Rebuilt from the registrations only when
/// the set of hot registrations or an interest changes (<see cref="MarkDirty"/>, from any thread); every other tick
/// refills them with block copies. Reactor thread only, apart from <see cref="MarkDirty"/>.
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
        AllRead = new SelectList(capacity);
        AllError = new SelectList(capacity);
        SliceRead = new SelectList(ColdTier.SliceSize);
        SliceError = new SelectList(ColdTier.SliceSize);
        ColdReadyRead = new SelectList(ColdTier.SliceSize);
        ColdReadyError = new SelectList(ColdTier.SliceSize);
    }

    /// <summary>Hot registrations watching for readability, writability, errors.</summary>
    public SelectList Read { get; }

    public SelectList Write { get; }

    public SelectList Error { get; }

    /// <summary>Hot registrations with <see cref="Interest.None"/>: in no select list, checked once in a while.</summary>
    public SelectList WatchingNothing { get; }

    /// <summary>Read and error lists over hot and cold registrations together, for the select over everything.</summary>
    public SelectList AllRead { get; }

    public SelectList AllError { get; }

    /// <summary>One slice of the cold tier: few enough sockets that the runtime's Select allocates nothing.</summary>
    public SelectList SliceRead { get; }

    public SelectList SliceError { get; }

    /// <summary>Cold registrations found ready by this tick's slices, waiting for the dispatch.</summary>
    public SelectList ColdReadyRead { get; }

    public SelectList ColdReadyError { get; }

    /// <summary>Asks for a rebuild before the next fill. Safe from any thread.</summary>
    public void MarkDirty() => Volatile.Write(ref _dirty, 1);

    /// <summary>Takes the pending rebuild request, if any.</summary>
    public bool TakeDirty()
    {
        // A plain read first: the interlocked exchange (a full fence) is paid only in ticks that have a change.
        return Volatile.Read(ref _dirty) != 0 && Interlocked.Exchange(ref _dirty, 0) != 0;
    }

    /// <summary>Rebuilds the hot lists from the hot registrations.</summary>
    public void Rebuild(ReadOnlySpan<Registration> hot)
    {
        Read.Clear();
        Write.Clear();
        Error.Clear();
        WatchingNothing.Clear();
        foreach (Registration registration in hot)
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

    /// <summary>Builds <see cref="AllRead"/> and <see cref="AllError"/>: the hot lists, then every cold registration.</summary>
    public void BuildAll(ReadOnlySpan<Registration> cold)
    {
        AllRead.Clear();
        AllError.Clear();
        AllRead.AddRange(Read);
        AllError.AddRange(Error);
        foreach (Registration registration in cold)
        {
            AddByInterest(registration, AllRead, AllError);
        }
    }

    /// <summary>Puts a cold registration in the slice lists it watches (cold ones watch reading and errors only).</summary>
    public static void AddByInterest(Registration registration, SelectList read, SelectList error)
    {
        int interest = registration.InterestBits;
        if ((interest & (int)Interest.Read) != 0)
        {
            read.Add(registration);
        }

        if ((interest & (int)Interest.Error) != 0)
        {
            error.Add(registration);
        }
    }
}
