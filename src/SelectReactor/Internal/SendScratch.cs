using System;
using System.Collections.Generic;

namespace SelectReactor;

/// <summary>
/// What the connections of one reactor share, since its callbacks never overlap: the staging area where the first
/// connection to write during a callback gathers its output (sent from there as the callback ends, so a reply per
/// callback touches no queue, segment or pool at all); one spare send segment, so that a connection keeping output
/// takes and gives back the same array without going to the pool (whose per-thread cache costs a thread-local-storage
/// lookup each way); and the list a gathered send describes its segments with. Reactor thread only.
/// </summary>
internal sealed class SendScratch
{
    /// <summary>The most segments one gathered send takes (see <c>SocketTransport</c>).</summary>
    public const int MaxGather = 8;

    /// <summary>The staging area's size: one segment.</summary>
    public const int StagingSize = BufferPool.SegmentSize;

    private byte[]? _spare;
    private byte[]? _staging;

    /// <summary>The connection whose output is in the staging area right now, or null. It gives it back before its callback ends.</summary>
    public object? StagingOwner { get; private set; }

    /// <summary>Takes the staging area for <paramref name="owner"/> (allocated on first use); null when someone else has it.</summary>
    public byte[]? TakeStaging(object owner)
    {
        if (StagingOwner is not null && !ReferenceEquals(StagingOwner, owner))
        {
            return null;
        }

        StagingOwner = owner;
        return _staging ??= new byte[StagingSize];
    }

    /// <summary>The owner is done with the staging area.</summary>
    public void ReleaseStaging() => StagingOwner = null;

    /// <summary>Filled and cleared by each gathered send; never holds a reference past it.</summary>
    public List<ArraySegment<byte>> Gather { get; } = new(MaxGather);

    /// <summary>A segment of at least <paramref name="size"/> bytes: the spare when it fits, else from the pool.</summary>
    public byte[] Rent(int size)
    {
        if (size <= BufferPool.SegmentSize && _spare is { } spare)
        {
            _spare = null;
            BufferPool.CountRented();
            return spare;
        }

        return BufferPool.Rent(Math.Max(size, BufferPool.SegmentSize));
    }

    /// <summary>Gives a segment back: kept as the spare when there is none, else to the pool.</summary>
    public void Return(byte[] array)
    {
        if (_spare is null && array.Length == BufferPool.SegmentSize)
        {
            _spare = array;
            BufferPool.CountReturned(); // kept here, but as good as back in the pool for anyone counting
            return;
        }

        BufferPool.Return(array);
    }
}
