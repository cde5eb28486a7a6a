using System;

namespace RedisServer;

/// <summary>A list value: a ring buffer of elements, so pushes and pops at both ends are O(1).</summary>
internal sealed class RedisList
{
    private byte[][] _items = new byte[4][];
    private int _head;

    public int Count { get; private set; }

    public byte[] this[int index] => _items[(_head + index) % _items.Length];

    public void PushLeft(byte[] item)
    {
        Grow();
        _head = (_head - 1 + _items.Length) % _items.Length;
        _items[_head] = item;
        Count++;
    }

    public void PushRight(byte[] item)
    {
        Grow();
        _items[(_head + Count) % _items.Length] = item;
        Count++;
    }

    public byte[] PopLeft()
    {
        byte[] item = _items[_head];
        _items[_head] = null!;
        _head = (_head + 1) % _items.Length;
        Count--;
        return item;
    }

    public byte[] PopRight()
    {
        int tail = (_head + Count - 1) % _items.Length;
        byte[] item = _items[tail];
        _items[tail] = null!;
        Count--;
        return item;
    }

    private void Grow()
    {
        if (Count < _items.Length)
        {
            return;
        }

        var larger = new byte[_items.Length * 2][];
        for (int i = 0; i < Count; i++)
        {
            larger[i] = this[i];
        }

        _items = larger;
        _head = 0;
    }
}
