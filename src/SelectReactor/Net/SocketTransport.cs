using System;
using System.Buffers;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;

namespace SelectReactor.Net;

/// <summary>
/// The bottom of a <see cref="TcpConnection"/>: its socket and everything that touches it. Reads into the reactor's
/// shared buffer and hands the bytes up; sends what is queued, gathered, as far as the socket takes it; sends FIN or
/// resets; keeps the registration's interest; completes a non-blocking connect. It holds no policy: what to read,
/// when to flush and when to end is the connection's call, and it reports everything back to the connection.
/// Reactor thread only.
/// </summary>
internal sealed class SocketTransport : IEventHandler, IBufferWriter<byte>
{
    /// <summary>
    /// The most buffers one gathered send takes: Linux's UIO_FASTIOV, below which the runtime's
    /// <c>Socket.Send(IList&lt;ArraySegment&lt;byte&gt;&gt;)</c> pins and describes them on the stack (no allocation).
    /// </summary>
    private const int MaxGather = SendScratch.MaxGather;

    private readonly TcpConnection _connection;
    private readonly Reactor _reactor;
    private Socket? _socket;
    private Registration? _registration;
    private bool _connecting;
    private bool _closed;
    private bool _urgentWhilePaused;

    public SocketTransport(TcpConnection connection, Reactor reactor, Socket? socket)
    {
        _connection = connection;
        _reactor = reactor;
        _socket = socket;
        Queue = new SendQueue(reactor.SendScratch);
    }

    /// <summary>Bytes waiting for the socket, in order. Plain connections write here directly; a layer writes its output here.</summary>
    public SendQueue Queue { get; }

    /// <summary>
    /// <see langword="true"/> once a send found the socket's buffer full: the queue waits for writability rather than
    /// being tried again at every flush. Cleared when the queue empties.
    /// </summary>
    public bool WriteBlocked { get; private set; }

    /// <summary>FIN has been sent (or the send side is otherwise shut).</summary>
    public bool FinSent { get; private set; }

    /// <summary>The peer's FIN was read: the socket will report nothing more.</summary>
    public bool InputEnded { get; private set; }

    /// <summary>Send system calls made, for tests that count how output was batched.</summary>
    public long SendCalls { get; private set; }

    /// <summary>Watches an accepted, connected socket.</summary>
    public void StartAccepted(Interest interest) => _registration = _reactor.Register(_socket!, this, interest);

    /// <summary>Watches <paramref name="socket"/>, whose non-blocking connect is in progress, in place of any earlier attempt's socket.</summary>
    public void StartConnecting(Socket socket)
    {
        Registration? previous = _registration;
        _registration = null;
        previous?.Dispose();
        _socket?.Dispose();
        _socket = socket;
        _connecting = true;
        _registration = _reactor.Register(socket, this, Interest.Write | Interest.Error);
    }

    /// <summary>
    /// Sets the registration's interest: read when the connection wants input, write while a send is blocked. While
    /// reading is paused (by the handler, for async work, or for backpressure) it watches for errors instead, so that a
    /// peer's reset ends the connection then and there rather than when reading resumes (which, for work that never
    /// completes, would be never).
    /// </summary>
    public void UpdateInterest(bool read)
    {
        Registration? registration = _registration;
        if (registration is null)
        {
            return;
        }

        if (read)
        {
            _urgentWhilePaused = false;
        }

        Interest input = read && !InputEnded ? Interest.Read
            : InputEnded || _urgentWhilePaused ? Interest.None
            : Interest.Error;
        Interest interest = _connecting
            ? Interest.Write | Interest.Error
            : input | (WriteBlocked && Queue.Length > 0 ? Interest.Write : Interest.None);
        if (interest != registration.Interest)
        {
            registration.Interest = interest;
        }
    }

    /// <summary>
    /// Sends what is queued as far as the socket takes it: one plain send when it is all in one segment, otherwise
    /// gathered sends of up to <see cref="MaxGather"/> segments. Stops at the first short send (the kernel's buffer is
    /// full) and sets <see cref="WriteBlocked"/>. Returns the bytes sent, or -1 after a socket error (reported to the
    /// connection, which has ended).
    /// </summary>
    public long Flush()
    {
        long total = 0;
        SendQueue queue = Queue;
        while (queue.Length > 0)
        {
            int sent;
            long attempted;
            SocketError error;
            if (queue.IsSingleSegment)
            {
                ReadOnlySpan<byte> head = queue.Head;
                attempted = head.Length;
                sent = _socket!.Send(head, SocketFlags.None, out error);
            }
            else
            {
                List<ArraySegment<byte>> gather = _reactor.SendScratch.Gather;
                attempted = queue.FillGather(gather, MaxGather);
                sent = _socket!.Send(gather, SocketFlags.None, out error);
                gather.Clear(); // drop the references to pooled arrays
            }

            SendCalls++;
            if (error != SocketError.Success)
            {
                if (error == SocketError.WouldBlock)
                {
                    WriteBlocked = true;
                    break;
                }

                CountSent(total);
                _connection.OnTransportError(error);
                return -1;
            }

            queue.Consume(sent);
            total += sent;
            if (sent < attempted)
            {
                WriteBlocked = true; // the kernel's buffer is full; wait for writability
                break;
            }
        }

        if (queue.Length == 0)
        {
            WriteBlocked = false;
            queue.TrimEmpty();
        }

        CountSent(total);
        return total;
    }

    /// <summary>
    /// Sends <paramref name="data"/> straight from the caller's memory, for a large write with nothing queued before
    /// it. Returns the bytes the socket took (the caller queues the rest), or -1 after a socket error.
    /// </summary>
    public int SendDirect(ReadOnlySpan<byte> data)
    {
        int sent = _socket!.Send(data, SocketFlags.None, out SocketError error);
        SendCalls++;
        if (error != SocketError.Success)
        {
            if (error == SocketError.WouldBlock)
            {
                WriteBlocked = true;
                return 0;
            }

            _connection.OnTransportError(error);
            return -1;
        }

        if (sent < data.Length)
        {
            WriteBlocked = true;
        }

        CountSent(sent);
        return sent;
    }

    /// <summary>Sends FIN (once). A failure here means the peer is already gone, which the read side reports.</summary>
    public void SendFin()
    {
        if (FinSent)
        {
            return;
        }

        FinSent = true;
        try
        {
            _socket!.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // Expected when the peer is already gone; the read side will report what happened.
        }
    }

    /// <summary>
    /// Ends the socket: drops what is queued, unregisters, disposes the socket, with a reset (linger 0) when asked.
    /// Returns <see langword="true"/> when there is a registration, whose OnClosed the reactor delivers (after the
    /// current callback) or has delivered; <see langword="false"/> when the socket was never registered.
    /// </summary>
    public bool Close(bool reset)
    {
        if (reset && _socket is not null)
        {
            try
            {
                _socket.LingerState = new LingerOption(true, 0);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Expected when the socket already died; disposing below is all that is left to do.
            }
        }

        _closed = true;
        Queue.Clear();
        WriteBlocked = false;
        Registration? registration = _registration;
        registration?.Dispose();
        _socket?.Dispose();
        return registration is not null;
    }

    /// <summary>Reads an end point from the socket; null when there is no connected socket (or it is gone).</summary>
    public EndPoint? ReadEndPoint(bool local)
    {
        if (_socket is null || _connecting)
        {
            return null;
        }

        try
        {
            return local ? _socket.LocalEndPoint : _socket.RemoteEndPoint;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Expected once the socket is gone (or the peer reset before anyone asked): there is nothing to report.
            return null;
        }
    }

    /// <summary>Commits bytes a layer wrote in place (see <see cref="GetSpan"/>); after <see cref="Close"/>, discards them.</summary>
    public void Advance(int count)
    {
        if (_closed)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(count);
            return;
        }

        Queue.Advance(count);
        _connection.OnTransportQueued();
    }

    /// <inheritdoc cref="GetSpan"/>
    public Memory<byte> GetMemory(int sizeHint = 0) => _closed ? Scratch(sizeHint) : Queue.GetTailMemory(sizeHint, atLeast: 1);

    /// <summary>
    /// Memory at the end of the send queue for a layer to write into, then <see cref="Advance"/>. After
    /// <see cref="Close"/>, scratch memory (so nothing is rented that would never be returned).
    /// </summary>
    public Span<byte> GetSpan(int sizeHint = 0) => _closed ? Scratch(sizeHint).Span : Queue.GetTail(sizeHint, atLeast: 1);

    /// <summary>Appends bytes a layer wrote; after <see cref="Close"/>, drops them.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        if (!_closed)
        {
            Queue.Append(data);
            _connection.OnTransportQueued();
        }
    }

    void IEventHandler.OnReadable(Registration registration)
    {
        if (_connecting)
        {
            CompleteConnect();
            return;
        }

        Read();
    }

    void IEventHandler.OnWritable(Registration registration)
    {
        if (_connecting)
        {
            CompleteConnect();
            return;
        }

        _connection.OnTransportWritable();
    }

    void IEventHandler.OnError(Registration registration)
    {
        if (_connecting)
        {
            CompleteConnect();
            return;
        }

        if (!_connection.WantsTransportInput)
        {
            // Paused: read nothing (requests stay in order), but end the connection if the peer reset it.
            int code = (int)_socket!.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
            if (code != 0)
            {
                _connection.OnTransportError((SocketError)code);
                return;
            }

            // No error: urgent data, which stays flagged until the stream is read past it. Watching errors now would
            // spin, so stop until reading resumes.
            _urgentWhilePaused = true;
            UpdateInterest(read: false);
            return;
        }

        // Urgent data or a pending error on an established connection: a read surfaces the error, if any.
        Read();
    }

    void IEventHandler.OnClosed(Registration registration, CloseReason reason, Exception? error)
    {
        // A registration replaced by the connector's next attempt is not the connection's end.
        if (ReferenceEquals(registration, _registration))
        {
            _connection.OnTransportClosed(reason, error);
        }
    }

    /// <summary>
    /// Reads while the connection wants input, at most <see cref="TcpConnectionOptions.MaxReadsPerReadiness"/> times,
    /// into the reactor's one receive buffer: callbacks never overlap on a reactor, so every connection reads into the
    /// same memory and an idle connection holds none. The span handed up is valid only during the call.
    /// </summary>
    private void Read()
    {
        TcpConnectionOptions options = _connection.Options;
        int size = options.ReceiveBufferSize;
        Span<byte> buffer = _reactor.ReceiveBuffer(size).AsSpan(0, size);
        _connection.OnTransportReadStart();
        try
        {
            for (int reads = 0; reads < options.MaxReadsPerReadiness; reads++)
            {
                int n = _socket!.Receive(buffer, SocketFlags.None, out SocketError error);
                if (error != SocketError.Success)
                {
                    if (error != SocketError.WouldBlock)
                    {
                        _connection.OnTransportError(error);
                    }

                    break;
                }

                if (n == 0)
                {
                    InputEnded = true;
                    _connection.OnTransportEnd();
                    break;
                }

                if (ReactorMetrics.BytesReceived.Enabled)
                {
                    ReactorMetrics.BytesReceived.Add(n, _reactor.MetricTag);
                }

                _connection.OnTransportData(buffer[..n]);
                if (!_connection.WantsTransportInput || n < size)
                {
                    // Paused, full, or ended; or a short read, which almost always means the socket is drained: skip
                    // the read that would say WouldBlock.
                    break;
                }
            }
        }
        finally
        {
            _connection.OnTransportReadDone();
        }
    }

    private void CompleteConnect()
    {
        Socket socket = _socket!;
        int code = (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
        if (code == 0)
        {
            _connecting = false;
            _ = socket.Connected; // lets the runtime record the completed non-blocking connect (end points, state)
        }

        _connection.OnConnectCompleted((SocketError)code);
    }

    private static Memory<byte> Scratch(int sizeHint) => new byte[Math.Max(sizeHint, 256)];

    private void CountSent(long bytes)
    {
        if (bytes > 0)
        {
            _connection.OnTransportSent(bytes);
        }
    }
}
