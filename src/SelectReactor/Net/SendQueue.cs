using System;
using System.Collections.Generic;
using System.Diagnostics;

namespace SelectReactor.Net;

/// <summary>
/// Bytes waiting to be sent, in pooled segments held in a ring. Appending copies into the tail segment's free space
/// first, so many small writes share a segment (and leave in one send); consuming returns each segment as soon as it
/// is sent. The tail can also be written in place (<see cref="GetTail"/>, <see cref="Advance"/>), which is how
/// <see cref="TcpConnection.Output"/> works. An empty queue holds no buffer. Reactor thread only.
/// </summary>
internal sealed class SendQueue
{
    internal const int SegmentSize = BufferPool.SegmentSize;

    private readonly SendScratch? _scratch;

    // Allocated on first use: most connections (request/response, echo) never keep anything queued. Its length is
    // always a power of two (4, then doubling), so indexes wrap with a mask rather than a division.
    private Segment[] _ring = [];
    private int _head;
    private int _count;

    /// <summary>A queue whose segments come from <paramref name="scratch"/>'s spare first (the reactor's), else the pool.</summary>
    public SendQueue(SendScratch? scratch = null) => _scratch = scratch;

    /// <summary>Bytes queued.</summary>
    public long Length { get; private set; }

    /// <summary>Segments currently rented from the pool.</summary>
    public int SegmentCount => _count;

    /// <summary>The unsent bytes of the oldest segment. Only when <see cref="Length"/> is positive.</summary>
    public ReadOnlySpan<byte> Head
    {
        get
        {
            Debug.Assert(Length > 0, "Head of an empty queue");
            ref Segment head = ref _ring[_head];
            return head.Array.AsSpan(head.Start, head.End - head.Start);
        }
    }

    /// <summary><see langword="true"/> when all queued bytes are in the oldest segment, so one plain send takes them.</summary>
    public bool IsSingleSegment
    {
        get
        {
            ref Segment head = ref _ring[_head];
            return Length == head.End - head.Start;
        }
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            Span<byte> tail = GetTail(sizeHint: 0, atLeast: 1); // the tail's free space first, then whole segments
            int take = Math.Min(tail.Length, data.Length);
            data[..take].CopyTo(tail);
            Advance(take);
            data = data[take..];
        }
    }

    /// <summary>
    /// The free space at the end of the tail segment, at least <paramref name="sizeHint"/> bytes (or
    /// <paramref name="atLeast"/> when the hint is smaller): a new segment is rented when the tail has less. Commit
    /// what was written with <see cref="Advance"/>.
    /// </summary>
    public Span<byte> GetTail(int sizeHint, int atLeast) => GetTailArray(sizeHint, atLeast, out int start).AsSpan(start);

    /// <summary>As <see cref="GetTail"/>, as memory.</summary>
    public Memory<byte> GetTailMemory(int sizeHint, int atLeast) => GetTailArray(sizeHint, atLeast, out int start).AsMemory(start);

    /// <summary>Commits <paramref name="count"/> bytes written into the span last returned by <see cref="GetTail"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">More than that span's length, or negative.</exception>
    public void Advance(int count)
    {
        if (count == 0)
        {
            return;
        }

        int free = _count == 0 ? 0 : TailFree;
        if (count < 0 || count > free)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Advance must not pass the end of the span GetSpan or GetMemory returned ({free} bytes).");
        }

        _ring[(_head + _count - 1) & (_ring.Length - 1)].End += count; // the tail
        Length += count;
    }

    /// <summary>Marks <paramref name="bytes"/> from the front as sent, returning each segment to the pool when done.</summary>
    public void Consume(long bytes)
    {
        Debug.Assert(bytes <= Length, "Consumed more than was queued");
        Length -= bytes;
        while (bytes > 0)
        {
            ref Segment head = ref _ring[_head];
            int take = (int)Math.Min(bytes, head.End - head.Start);
            head.Start += take;
            bytes -= take;
            if (head.Start == head.End)
            {
                ReleaseHead();
            }
        }
    }

    /// <summary>
    /// Fills <paramref name="gather"/> with the queued runs, oldest first, at most <paramref name="maxSegments"/> of
    /// them, for one gathered send (sendmsg). Returns the bytes they hold.
    /// </summary>
    public long FillGather(List<ArraySegment<byte>> gather, int maxSegments)
    {
        gather.Clear();
        long total = 0;
        for (int i = 0; i < _count && gather.Count < maxSegments; i++)
        {
            ref Segment segment = ref _ring[(_head + i) & (_ring.Length - 1)];
            int length = segment.End - segment.Start;
            if (length > 0)
            {
                gather.Add(new ArraySegment<byte>(segment.Array, segment.Start, length));
                total += length;
            }
        }

        return total;
    }

    /// <summary>Returns a tail segment that was rented for writing but never written (nothing queued in it).</summary>
    public void TrimEmpty()
    {
        if (Length == 0 && _count > 0)
        {
            Clear();
        }
    }

    /// <summary>Drops everything queued and returns every segment.</summary>
    public void Clear()
    {
        while (_count > 0)
        {
            ReleaseHead();
        }

        _head = 0;
        Length = 0;
    }

    private int TailFree
    {
        get
        {
            ref Segment tail = ref _ring[(_head + _count - 1) & (_ring.Length - 1)];
            return tail.Array.Length - tail.End;
        }
    }

    private byte[] GetTailArray(int sizeHint, int atLeast, out int start)
    {
        int need = Math.Max(sizeHint, atLeast);
        if (_count > 0 && TailFree >= need)
        {
            ref Segment tail = ref _ring[(_head + _count - 1) & (_ring.Length - 1)];
            start = tail.End;
            return tail.Array;
        }

        if (_count == _ring.Length)
        {
            Grow();
        }

        // Bigger than a segment only when asked for in one piece (the pool rounds up to a power of two).
        byte[] array = _scratch is null ? BufferPool.Rent(Math.Max(SegmentSize, need)) : _scratch.Rent(need);
        _ring[(_head + _count) & (_ring.Length - 1)] = new Segment(array, 0, 0);
        _count++;
        start = 0;
        return array;
    }

    private void ReleaseHead()
    {
        ref Segment head = ref _ring[_head];
        if (_scratch is null)
        {
            BufferPool.Return(head.Array);
        }
        else
        {
            _scratch.Return(head.Array);
        }

        head = default;
        _head = (_head + 1) & (_ring.Length - 1);
        _count--;
    }

    private void Grow()
    {
        var bigger = new Segment[Math.Max(4, _ring.Length * 2)];
        for (int i = 0; i < _count; i++)
        {
            bigger[i] = _ring[(_head + i) & (_ring.Length - 1)];
        }

        _ring = bigger;
        _head = 0;
    }

    private struct Segment(byte[] array, int start, int end)
    {
        public byte[] Array = array;
        public int Start = start;
        public int End = end;
    }
}
