using System;
using System.Diagnostics;

namespace SelectReactor.Net;

/// <summary>
/// Bytes waiting to be sent, in pooled fixed-size segments held in a ring. Appending copies into the tail segment's
/// free space first, so many small sends share a segment; consuming returns each segment as soon as it is sent.
/// An empty queue holds no buffer. Reactor thread only.
/// </summary>
internal sealed class SendQueue
{
    internal const int SegmentSize = 16 * 1024;

    // Allocated on first use: most connections (request/response, echo) never queue anything.
    private Segment[] _ring = [];
    private int _head;
    private int _count;

    /// <summary>Bytes queued.</summary>
    public long Length { get; private set; }

    /// <summary>Segments currently rented from the pool.</summary>
    public int SegmentCount => _count;

    /// <summary>The unsent bytes of the oldest segment. Only when <see cref="Length"/> is positive.</summary>
    public ReadOnlySpan<byte> Head
    {
        get
        {
            Debug.Assert(_count > 0, "Head of an empty queue");
            ref Segment head = ref _ring[_head];
            return head.Array.AsSpan(head.Start, head.End - head.Start);
        }
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        Length += data.Length;
        if (_count > 0)
        {
            ref Segment tail = ref _ring[(_head + _count - 1) % _ring.Length];
            int room = tail.Array.Length - tail.End;
            if (room > 0)
            {
                int take = Math.Min(room, data.Length);
                data[..take].CopyTo(tail.Array.AsSpan(tail.End));
                tail.End += take;
                data = data[take..];
            }
        }

        while (!data.IsEmpty)
        {
            if (_count == _ring.Length)
            {
                Grow();
            }

            byte[] array = BufferPool.Rent(SegmentSize);
            int take = Math.Min(array.Length, data.Length);
            data[..take].CopyTo(array);
            _ring[(_head + _count) % _ring.Length] = new Segment(array, 0, take);
            _count++;
            data = data[take..];
        }
    }

    /// <summary>Marks <paramref name="bytes"/> of the head segment as sent, returning it to the pool when done.</summary>
    public void Consume(int bytes)
    {
        ref Segment head = ref _ring[_head];
        head.Start += bytes;
        Length -= bytes;
        if (head.Start == head.End)
        {
            BufferPool.Return(head.Array);
            head = default;
            _head = (_head + 1) % _ring.Length;
            _count--;
        }
    }

    /// <summary>Drops everything queued and returns every segment.</summary>
    public void Clear()
    {
        while (_count > 0)
        {
            BufferPool.Return(_ring[_head].Array);
            _ring[_head] = default;
            _head = (_head + 1) % _ring.Length;
            _count--;
        }

        _head = 0;
        Length = 0;
    }

    private void Grow()
    {
        var bigger = new Segment[Math.Max(4, _ring.Length * 2)];
        for (int i = 0; i < _count; i++)
        {
            bigger[i] = _ring[(_head + i) % _ring.Length];
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
