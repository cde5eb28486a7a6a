using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace SelectReactor.Net;

/// <summary>
/// A connection handler that parses a byte stream: <see cref="Parse"/> sees every byte received and not yet
/// consumed, consumes what it can, and the rest waits for more. The base keeps the rest, caps it, and runs
/// asynchronous work without reordering requests. For frame-by-frame protocols see <see cref="FramedConnectionHandler"/>.
/// </summary>
/// <remarks>
/// <para>
/// One instance per connection (give <see cref="TcpServer"/> a factory that makes a new one; a second connection
/// handed to the same instance is refused with <see cref="InvalidOperationException"/>). Bytes are handed over
/// straight from the reactor's receive buffer, without a copy; only an incomplete frame is copied, into a pooled
/// buffer held while it is pending and returned as soon as it is consumed, so an idle connection holds no buffer.
/// More than <see cref="MaxBufferedBytes"/> bytes without progress closes the connection with
/// <see cref="ConnectionCloseReason.FrameTooLarge"/> and one log line. The buffer grows only with bytes that arrived.
/// </para>
/// <para>
/// Asynchronous work: <see cref="Parse"/> may start work that completes later and hand it to
/// <see cref="SuspendUntil"/>. Until it completes the connection stops reading, and bytes already received wait,
/// so requests are answered in order. Code after an <c>await</c> in a handler runs on the reactor thread: the base
/// sets a <see cref="SynchronizationContext"/> that posts to the reactor while it calls <see cref="Parse"/>. If the
/// work fails, the connection closes with <see cref="ConnectionCloseReason.HandlerFault"/>; others are untouched.
/// </para>
/// <para>Every member runs on, and must be called on, the reactor thread.</para>
/// </remarks>
public abstract class ParsingConnectionHandler : ConnectionHandler
{
    private const int InitialBufferSize = 4096;

    private readonly Action _onWorkDone;
    private byte[]? _buffer;
    private int _buffered;
    private TcpConnection? _connection;
    private ReactorSynchronizationContext? _context;
    private ValueTask _work;
    private bool _suspended;
    private bool _stopped;
    private bool _parsing;

    /// <summary>Sets the cap on bytes held for one incomplete frame.</summary>
    /// <param name="maxBufferedBytes">See <see cref="MaxBufferedBytes"/>; at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBufferedBytes"/> is less than 1 or above <see cref="Array.MaxLength"/> - 1.</exception>
    protected ParsingConnectionHandler(int maxBufferedBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBufferedBytes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxBufferedBytes, Array.MaxLength - 1);
        MaxBufferedBytes = maxBufferedBytes;
        _onWorkDone = OnWorkDone;
    }

    /// <summary>
    /// The most bytes an incomplete frame may occupy: when <see cref="Parse"/> leaves more than this unconsumed
    /// (and is not suspended), the connection closes with <see cref="ConnectionCloseReason.FrameTooLarge"/>.
    /// The pending buffer never grows past it, beyond the pool's rounding up to a power of two, with one exception:
    /// when work suspends parsing, the rest of the read in progress waits with it (at most one receive buffer more;
    /// reading stops until the work completes).
    /// </summary>
    public int MaxBufferedBytes { get; }

    /// <summary>Bytes received and not yet consumed, held in the pending buffer now (0 when idle). For tests.</summary>
    internal int BufferedBytes => _buffered;

    /// <summary>The pending buffer's size, 0 when none is held. For tests.</summary>
    internal int BufferCapacity => _buffer?.Length ?? 0;

    /// <summary><see langword="true"/> from <see cref="SuspendUntil"/> with unfinished work until that work completes.</summary>
    protected bool IsSuspended => _suspended;

    /// <summary>Bytes arrived: parses them, after any bytes still pending. Sealed: override <see cref="Parse"/>.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="data">The bytes received.</param>
    /// <exception cref="InvalidOperationException">This instance already serves another connection.</exception>
    public sealed override void OnData(TcpConnection connection, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(connection);
        Bind(connection);
        if (_stopped)
        {
            return;
        }

        ReactorSynchronizationContext context = _context ??= ReactorSynchronizationContext.For(connection.Reactor);
        SynchronizationContext? previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(context);
        try
        {
            Receive(connection, data);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    /// <summary>
    /// The connection ended: returns the pending buffer, then calls <see cref="OnConnectionClosed"/>. Sealed so that
    /// the buffer always goes back to the pool.
    /// </summary>
    /// <param name="connection">The connection.</param>
    /// <param name="reason">Why it ended.</param>
    /// <param name="error">The exception behind an error reason, otherwise <see langword="null"/>.</param>
    public sealed override void OnClosed(TcpConnection connection, ConnectionCloseReason reason, Exception? error)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection ??= connection; // bound even if it closed before sending anything: a second connection is refused
        if (ReferenceEquals(connection, _connection))
        {
            _stopped = true;
            Release();
        }

        OnConnectionClosed(connection, reason, error);
    }

    /// <summary>
    /// Consumes what it can of <paramref name="buffered"/>: every whole frame (or request), unless it suspends.
    /// </summary>
    /// <param name="connection">The connection.</param>
    /// <param name="buffered">Every byte received and not yet consumed, oldest first. Valid only during the call:
    /// copy what must outlive it. Bytes left unconsumed are presented again, at the start, with more after them.</param>
    /// <returns>How many leading bytes were consumed, from 0 to <paramref name="buffered"/>'s length. Unless
    /// suspended, what is left must be the start of an incomplete frame.</returns>
    /// <remarks>Stop and return after <see cref="SuspendUntil"/> suspends, or after closing the connection.</remarks>
    protected abstract int Parse(TcpConnection connection, ReadOnlySpan<byte> buffered);

    /// <summary>
    /// Waits for <paramref name="work"/> before parsing any further: when it has not completed yet, the connection
    /// stops reading, and <see cref="Parse"/> must return at once (counting the request that started the work as
    /// consumed). When the work completes, on the reactor thread, the bytes already received are parsed, then
    /// reading resumes. Work that has already completed costs nothing and suspends nothing.
    /// </summary>
    /// <param name="work">The work, typically an <c>async</c> method handling one request.</param>
    /// <exception cref="InvalidOperationException">Already suspended (call it at most once per <see cref="Parse"/>, then return).</exception>
    /// <remarks>
    /// Failed work closes the connection with <see cref="ConnectionCloseReason.HandlerFault"/> (at once when it has
    /// already failed: the exception is rethrown here). Reading is resumed even if the handler paused it itself.
    /// If the connection closes meanwhile, the work still runs to its end and its outcome is ignored (a failure is
    /// logged). If the reactor is disposed meanwhile, the rest of the work is dropped with it.
    /// </remarks>
    protected void SuspendUntil(ValueTask work)
    {
        TcpConnection connection = _connection ?? throw new InvalidOperationException("SuspendUntil is for work started while parsing; no data has arrived yet.");
        if (!connection.Reactor.IsOnReactorThread)
        {
            // First, before anything changes: a suspension set up half-way would buffer without a cap and never resume.
            throw new InvalidOperationException("SuspendUntil must be called on the reactor thread, from Parse.");
        }

        if (_suspended)
        {
            throw new InvalidOperationException("Parsing is already suspended; return from Parse after the first SuspendUntil.");
        }

        if (work.IsCompleted)
        {
            work.GetAwaiter().GetResult(); // a synchronous failure is the handler's fault, right here
            return;
        }

        _suspended = true;
        _work = work;
        connection.PauseReading();

        // With the reactor's context captured (it is current while parsing): work that completes on the reactor
        // thread, as an async handler method does, runs OnWorkDone inline; work completed elsewhere posts it. Without
        // the context, the runtime would refuse to inline under a custom context and hop through the thread pool.
        work.GetAwaiter().UnsafeOnCompleted(_onWorkDone);
    }

    /// <summary>
    /// Stops parsing, logs one line, and closes the connection gracefully with
    /// <see cref="ConnectionCloseReason.ProtocolError"/>: whatever was sent before (an error reply, say) still
    /// reaches the peer. Bytes still buffered are discarded. Return from <see cref="Parse"/> after calling it.
    /// </summary>
    /// <param name="connection">The connection.</param>
    /// <param name="detail">What was wrong, for the log.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    protected void CloseForProtocolError(TcpConnection connection, string detail)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(detail);
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        FramingLog.ProtocolError(connection, detail);
        connection.CloseFor(ConnectionCloseReason.ProtocolError);
    }

    /// <summary>
    /// Stops parsing, logs one line, and closes the connection gracefully with
    /// <see cref="ConnectionCloseReason.FrameTooLarge"/>, after <see cref="OnFrameTooLarge"/>. Called by the base
    /// when too many bytes are pending; call it from <see cref="Parse"/> when a declared length is already too big,
    /// before buffering any of it. Return from <see cref="Parse"/> after calling it.
    /// </summary>
    /// <param name="connection">The connection.</param>
    /// <exception cref="ArgumentNullException"><paramref name="connection"/> is <see langword="null"/>.</exception>
    protected void CloseForFrameTooLarge(TcpConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        OnFrameTooLarge(connection);
        FramingLog.FrameTooLarge(connection, MaxBufferedBytes);
        connection.CloseFor(ConnectionCloseReason.FrameTooLarge);
    }

    /// <summary>
    /// A frame passed the maximum; the connection is about to close gracefully. Sending a last error reply here
    /// still reaches the peer. Default: nothing.
    /// </summary>
    /// <param name="connection">The connection.</param>
    protected virtual void OnFrameTooLarge(TcpConnection connection)
    {
    }

    /// <summary>The connection ended; called exactly once, last, after the pending buffer went back to the pool. Default: nothing.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="reason">Why it ended.</param>
    /// <param name="error">The exception behind an error reason, otherwise <see langword="null"/>.</param>
    protected virtual void OnConnectionClosed(TcpConnection connection, ConnectionCloseReason reason, Exception? error)
    {
    }

    /// <summary>
    /// The heart of it. New bytes go straight to <see cref="Parse"/> when nothing is pending; otherwise they are
    /// appended to the pending bytes, no further than one byte past the maximum, so a frame that never ends is
    /// caught as soon as it passes the cap. Once the pending bytes are consumed, the rest of the read is parsed in
    /// place again.
    /// </summary>
    private void Receive(TcpConnection connection, ReadOnlySpan<byte> data)
    {
        while (true)
        {
            if (_stopped || !connection.IsOpen)
            {
                Release(); // closing: nothing more will be parsed
                return;
            }

            if (_suspended)
            {
                Append(data); // everything waits for the work in progress, whatever its size
                return;
            }

            if (_buffered == 0)
            {
                int consumed = CallParse(connection, data);
                data = data[consumed..];
                if (data.IsEmpty || _stopped)
                {
                    return;
                }

                if (!_suspended && data.Length > MaxBufferedBytes)
                {
                    CloseForFrameTooLarge(connection);
                    return;
                }

                Append(data);
                return;
            }

            int pending = _buffered;
            int take = Math.Clamp(MaxBufferedBytes + 1 - pending, 0, data.Length);
            Append(data[..take]);
            int parsed = CallParse(connection, _buffer.AsSpan(0, _buffered));
            if (_stopped)
            {
                return;
            }

            if (parsed >= pending)
            {
                // The pending bytes are consumed; the rest of what was appended is still in data: parse it in place.
                Release();
                data = data[(parsed - pending)..];
                if (data.IsEmpty)
                {
                    return;
                }

                continue;
            }

            Compact(parsed);
            data = data[take..];
            if (_suspended)
            {
                continue;
            }

            if (_buffered > MaxBufferedBytes || (take == 0 && parsed == 0 && !data.IsEmpty))
            {
                CloseForFrameTooLarge(connection);
                return;
            }

            if (data.IsEmpty)
            {
                return;
            }
        }
    }

    /// <summary>
    /// The first connection to deliver data owns this instance for good: its buffer, its suspension and its end are
    /// that connection's. A second one would read the first one's pending bytes as its own, so it is refused, loudly
    /// (the throw faults that connection alone).
    /// </summary>
    private void Bind(TcpConnection connection)
    {
        if (_connection is null)
        {
            _connection = connection;
        }
        else if (!ReferenceEquals(_connection, connection))
        {
            throw new InvalidOperationException(
                $"This {GetType().Name} already serves another connection. A parsing handler keeps one connection's state: make one per connection (for TcpServer, a factory such as () => new {GetType().Name}(...)).");
        }
    }

    private int CallParse(TcpConnection connection, ReadOnlySpan<byte> buffered)
    {
        _parsing = true;
        int consumed;
        try
        {
            consumed = Parse(connection, buffered);
        }
        finally
        {
            _parsing = false;
        }

        if ((uint)consumed > (uint)buffered.Length)
        {
            throw new InvalidOperationException($"Parse returned {consumed}; it must be between 0 and the {buffered.Length} bytes it was given.");
        }

        return consumed;
    }

    /// <summary>The suspending work completed: carry on, on the reactor thread.</summary>
    private void OnWorkDone()
    {
        TcpConnection connection = _connection!;
        if (connection.Reactor.IsOnReactorThread && !_parsing)
        {
            Resume();
            return;
        }

        try
        {
            connection.Reactor.Post(static handler => handler.Resume(), this);
        }
        catch (ObjectDisposedException)
        {
            // The reactor is gone, and the connection with it (closed with ReactorDisposed): nothing is left to resume.
        }
    }

    private void Resume()
    {
        TcpConnection connection = _connection!;
        ValueTask work = _work;
        _work = default;
        _suspended = false;
        try
        {
            work.GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            if (connection.IsClosed)
            {
                FramingLog.WorkFailedAfterClose(connection, e);
            }
            else
            {
                _stopped = true;
                connection.Fault(e);
            }

            return;
        }

        if (_stopped || connection.IsClosed)
        {
            return;
        }

        // Parse what arrived while the work ran, then read again unless parsing suspended once more.
        ReactorSynchronizationContext context = _context!;
        SynchronizationContext? previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(context);
        try
        {
            if (_buffered > 0)
            {
                Receive(connection, []);
            }
        }
        catch (Exception e)
        {
            // Not inside a connection callback, so the connection's own fault handling is not around us: do it here.
            _stopped = true;
            connection.Fault(e);
            return;
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }

        if (!_suspended && !_stopped && !connection.IsClosed)
        {
            connection.ResumeReading();
        }
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        int needed = _buffered + data.Length;
        if (_buffer is null || needed > _buffer.Length)
        {
            int grown = _buffer is null ? InitialBufferSize : (int)Math.Min(2L * _buffer.Length, Array.MaxLength);
            byte[] larger = BufferPool.Rent(Math.Max(needed, Math.Min(grown, MaxBufferedBytes + 1)));
            if (_buffer is not null)
            {
                _buffer.AsSpan(0, _buffered).CopyTo(larger);
                BufferPool.Return(_buffer);
            }

            _buffer = larger;
        }

        data.CopyTo(_buffer.AsSpan(_buffered));
        _buffered = needed;
    }

    private void Compact(int consumed)
    {
        if (consumed == 0)
        {
            return;
        }

        _buffered -= consumed;
        _buffer.AsSpan(consumed, _buffered).CopyTo(_buffer);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Release()
    {
        if (_buffer is not null)
        {
            BufferPool.Return(_buffer);
            _buffer = null;
        }

        _buffered = 0;
    }
}
