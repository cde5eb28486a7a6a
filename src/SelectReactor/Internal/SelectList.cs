using System;
using System.Collections.Generic;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace SelectReactor;

/// <summary>
/// One list handed to <c>Socket.Select</c> (read, write or error), with the master arrays it is refilled from and
/// the registration behind each socket. The masters change only when the set changes; every select refills the
/// list from them with one block copy. Select removes the sockets that are not ready and keeps the others in
/// order, so <see cref="Next"/> maps each ready socket back to its registration in O(1) amortised. Reactor thread
/// only; allocates only when it grows.
/// </summary>
internal sealed class SelectList
{
    private Socket[] _sockets;
    private Registration[] _registrations;
    private int _count;

    // How far the masters held references at the last Clear, so the stale tail is released once, not every fill.
    private int _used;

    public SelectList(int capacity)
    {
        _sockets = new Socket[capacity];
        _registrations = new Registration[capacity];
        Sockets = new List<Socket>(capacity + 1);
    }

    /// <summary>The list select sees: filled by <see cref="Fill"/>, left holding the ready sockets.</summary>
    public List<Socket> Sockets { get; }

    /// <summary>The registrations in the masters.</summary>
    public int Count => _count;

    /// <summary>Empties the masters (references past the new end are dropped, so closed registrations can go).</summary>
    public void Clear()
    {
        if (_used > 0)
        {
            Array.Clear(_sockets, 0, _used);
            Array.Clear(_registrations, 0, _used);
        }

        _used = 0;
        _count = 0;
    }

    public void Add(Registration registration)
    {
        if (_count == _sockets.Length)
        {
            Grow(_count * 2);
        }

        _sockets[_count] = registration.Socket;
        _registrations[_count++] = registration;
        _used = Math.Max(_used, _count);
    }

    /// <summary>Appends every registration of <paramref name="other"/>'s masters (a block copy).</summary>
    public void AddRange(SelectList other)
    {
        if (_count + other._count > _sockets.Length)
        {
            Grow(Math.Max(_count + other._count, _sockets.Length * 2));
        }

        other._sockets.AsSpan(0, other._count).CopyTo(_sockets.AsSpan(_count));
        other._registrations.AsSpan(0, other._count).CopyTo(_registrations.AsSpan(_count));
        _count += other._count;
        _used = Math.Max(_used, _count);
    }

    /// <summary>Refills <see cref="Sockets"/> from the masters, after <paramref name="first"/> if given: one block copy.</summary>
    public void Fill(Socket? first)
    {
        int offset = first is null ? 0 : 1;
        if (Sockets.Capacity < offset + _count)
        {
            Sockets.Capacity = _sockets.Length + 1;
        }

        CollectionsMarshal.SetCount(Sockets, offset + _count);
        Span<Socket> span = CollectionsMarshal.AsSpan(Sockets);
        if (first is not null)
        {
            span[0] = first;
        }

        _sockets.AsSpan(0, _count).CopyTo(span[offset..]);
    }

    /// <summary>
    /// The registration of a ready socket, searching the masters from <paramref name="from"/> (then, should a runtime
    /// ever reorder the list, from the start once), or null for a socket not in the masters. Advances
    /// <paramref name="from"/> past the match. The search runs over the socket array, a contiguous run of references,
    /// so skipping the sockets that were not ready touches no registration objects.
    /// </summary>
    public Registration? Next(Socket ready, ref int from)
    {
        int k = IndexOf(from, _count, ready);
        if (k < 0 && (k = IndexOf(0, from, ready)) < 0)
        {
            return null;
        }

        from = k + 1;
        return _registrations[k];
    }

    private int IndexOf(int from, int to, Socket socket)
    {
        Socket[] sockets = _sockets;
        for (int i = from; i < to; i++)
        {
            if (ReferenceEquals(sockets[i], socket))
            {
                return i;
            }
        }

        return -1;
    }

    private void Grow(int size)
    {
        Array.Resize(ref _sockets, size);
        Array.Resize(ref _registrations, size);
        Sockets.Capacity = size + 1;
    }
}
