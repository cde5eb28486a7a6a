using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;

namespace SelectReactor;

/// <summary>
/// A loopback UDP socket connected to itself. It is always in the reactor's read list, which keeps the lists
/// non-empty (Socket.Select throws on all-empty lists) and lets any thread cut a long select short by sending one
/// datagram. Wake-ups coalesce: between two resets at most one datagram is sent.
/// </summary>
internal sealed class WakeupSocket : IDisposable
{
    private static ReadOnlySpan<byte> OneByte => [1];

    private int _pending;

    public WakeupSocket()
    {
        Socket = Create();
    }

    public Socket Socket { get; private set; }

    /// <summary>Wakes the reactor unless a wake-up is already on its way. Safe from any thread.</summary>
    public void Wake()
    {
        if (Interlocked.Exchange(ref _pending, 1) != 0)
        {
            return;
        }

        try
        {
            // The send result is ignored: a full buffer already holds a wake-up, which is all we need.
            Socket.Send(OneByte, SocketFlags.None, out _);
        }
        catch (ObjectDisposedException)
        {
            // Expected when the reactor is being disposed concurrently: nothing is left to wake.
        }
    }

    /// <summary>
    /// Re-arms the wake-up. The reactor calls this at the start of a tick, before it drains its queue, so that work
    /// queued after this point always sends a fresh datagram, and work queued before it is seen by the drain.
    /// </summary>
    public void Reset() => Volatile.Write(ref _pending, 0);

    /// <summary>Consumes every datagram waiting. Reactor thread only.</summary>
    public void Drain()
    {
        Span<byte> buffer = stackalloc byte[16];
        // Read until WouldBlock (or any other error): coalescing keeps this to one or two datagrams.
        while (true)
        {
            Socket.Receive(buffer, SocketFlags.None, out SocketError error);
            if (error != SocketError.Success)
            {
                return;
            }
        }
    }

    /// <summary>Replaces a socket that died (disposed by someone who should not have). Reactor thread only.</summary>
    public void Recreate()
    {
        Socket old = Socket;
        Socket = Create();
        old.Dispose();
        Volatile.Write(ref _pending, 0);
    }

    public void Dispose() => Socket.Dispose();

    private static Socket Create()
    {
        try
        {
            return CreateOn(IPAddress.Loopback);
        }
        catch (SocketException)
        {
            // Expected on hosts without IPv4 loopback: fall back to IPv6.
            return CreateOn(IPAddress.IPv6Loopback);
        }
    }

    private static Socket CreateOn(IPAddress address)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Bind(new IPEndPoint(address, 0));
            socket.Connect(socket.LocalEndPoint!);
            socket.Blocking = false;
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
