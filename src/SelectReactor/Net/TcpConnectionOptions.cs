using System;
using System.Globalization;
using System.Threading;

namespace SelectReactor.Net;

/// <summary>Limits and behaviour of a <see cref="TcpConnection"/>. Read when a connection starts.</summary>
public sealed class TcpConnectionOptions
{
    private int _receiveBufferSize = 64 * 1024;
    private int _maxReadsPerReadiness = 4;
    // 64 / 16 KiB, Kestrel's figure: a peer that stops reading pins ~110 KiB instead of ~310 KiB at 256 / 64 KiB.
    // Streaming 16 KiB messages over loopback with enough in flight to pass the mark ran at 0.92x (median of 8
    // alternated rounds, within the loaded test machine's noise): the kernel's socket buffers, not this queue, carry
    // a fast stream; raise the mark for a few bulk streams that must not lose a percent.
    private const long DefaultSendHighWatermark = 64 * 1024;
    private const long DefaultSendLowWatermark = 16 * 1024;
    private const long DefaultMaxPendingSendBytes = 4 * 1024 * 1024;
    private long _sendHighWatermark = DefaultSendHighWatermark;
    private long _sendLowWatermark = DefaultSendLowWatermark;
    private long _maxPendingSendBytes = DefaultMaxPendingSendBytes;
    private TimeSpan _idleTimeout = Timeout.InfiniteTimeSpan;
    private TimeSpan _closeTimeout = TimeSpan.FromSeconds(5);
    private TimeSpan _closeFlushTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The most one read takes from the socket. Default 64 KiB; 256 bytes to 16 MiB.</summary>
    /// <remarks>
    /// Reads go into the reactor's one receive buffer, shared by every connection on it (callbacks never overlap), so
    /// this sizes that buffer (the largest asked for by any connection on the reactor wins) and costs nothing per
    /// connection: an idle connection holds no receive buffer.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">Outside 256 bytes to 16 MiB.</exception>
    public int ReceiveBufferSize
    {
        get => _receiveBufferSize;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 256);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 16 * 1024 * 1024);
            _receiveBufferSize = value;
        }
    }

    /// <summary>The most reads one readiness event may do, so a fast peer cannot starve the others. Default 4; 1 to 1,024.</summary>
    public int MaxReadsPerReadiness
    {
        get => _maxReadsPerReadiness;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 1024);
            _maxReadsPerReadiness = value;
        }
    }

    /// <summary>
    /// Pending output above which the connection stops reading and calls <see cref="ConnectionHandler.OnSendBufferFull"/>.
    /// Default 64 KiB (as Kestrel's response buffer). Must be at least <see cref="SendLowWatermark"/> and below
    /// <see cref="MaxPendingSendBytes"/>.
    /// </summary>
    /// <remarks>
    /// A peer that stops reading pins about this plus one read (<see cref="ReceiveBufferSize"/>): ~110 KiB at the
    /// default, ~310 KiB at 256 KiB. Output that leaves within the callback that wrote it never counts.
    /// </remarks>
    public long SendHighWatermark
    {
        get => _sendHighWatermark;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _sendHighWatermark = value;
        }
    }

    /// <summary>Pending output at or below which a paused connection reads again and calls <see cref="ConnectionHandler.OnDrained"/>. Default 16 KiB.</summary>
    public long SendLowWatermark
    {
        get => _sendLowWatermark;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _sendLowWatermark = value;
        }
    }

    /// <summary>
    /// The hard cap on pending output. A <see cref="TcpConnection.Send"/> that would pass it aborts the connection with
    /// <see cref="ConnectionCloseReason.SendBufferOverflow"/> instead of growing memory. Default 4 MiB.
    /// </summary>
    public long MaxPendingSendBytes
    {
        get => _maxPendingSendBytes;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _maxPendingSendBytes = value;
        }
    }

    /// <summary>
    /// Closes the connection (<see cref="ConnectionCloseReason.IdleTimeout"/>) when nothing was received or sent for
    /// this long. Default <see cref="Timeout.InfiniteTimeSpan"/>: never, which lets an untrusted peer hold a
    /// connection open for free.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Zero or negative (other than infinite).</exception>
    public TimeSpan IdleTimeout
    {
        get => _idleTimeout;
        set => _idleTimeout = OptionChecks.PositiveOrInfinite(value, nameof(IdleTimeout), "Timeout.InfiniteTimeSpan (never)");
    }

    /// <summary>
    /// Once <see cref="TcpConnection.Close"/> has sent everything and its end of stream, how long it waits for the
    /// peer's end of stream before closing anyway (gracefully: the peer has all the data). Default 5 seconds.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Zero or negative.</exception>
    public TimeSpan CloseTimeout
    {
        get => _closeTimeout;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            _closeTimeout = value;
        }
    }

    /// <summary>
    /// While <see cref="TcpConnection.Close"/> is still sending what is queued, how long the peer may accept none of
    /// it before the rest is dropped (logged as a Warning) and the connection reset with
    /// <see cref="ConnectionCloseReason.CloseTimeout"/>. Measured from the last byte that left, so a slow reader, or
    /// one that pauses for less than this, gets everything. Default 60 seconds (nginx's <c>send_timeout</c>).
    /// </summary>
    /// <remarks>
    /// A closing connection holds its queued output (at most <see cref="MaxPendingSendBytes"/>) meanwhile; with
    /// <see cref="Timeout.InfiniteTimeSpan"/> a peer that never reads holds it forever.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">Zero or negative (other than infinite).</exception>
    public TimeSpan CloseFlushTimeout
    {
        get => _closeFlushTimeout;
        set => _closeFlushTimeout = OptionChecks.PositiveOrInfinite(value, nameof(CloseFlushTimeout), "60 s");
    }

    /// <summary>
    /// Makes the <see cref="ConnectionLayer"/> of each new connection (one per connection), or
    /// <see langword="null"/> (default) for plain connections. Internal: the library's TLS and the tests set it.
    /// </summary>
    internal Func<ConnectionLayer>? LayerFactory { get; set; }

    /// <summary>Checks that the watermarks and the cap are consistent.</summary>
    /// <exception cref="ArgumentException">Low watermark above high, or high at or above the cap; the message gives the
    /// values involved, which of them are defaults, and what to change.</exception>
    internal TcpConnectionOptions Validated()
    {
        if (SendLowWatermark > SendHighWatermark)
        {
            throw new ArgumentException(
                $"TcpConnectionOptions.SendLowWatermark ({Describe(SendLowWatermark, DefaultSendLowWatermark)}) must not exceed " +
                $"SendHighWatermark ({Describe(SendHighWatermark, DefaultSendHighWatermark)}): lower SendLowWatermark or raise SendHighWatermark.");
        }

        if (SendHighWatermark >= MaxPendingSendBytes)
        {
            throw new ArgumentException(
                $"TcpConnectionOptions.SendHighWatermark ({Describe(SendHighWatermark, DefaultSendHighWatermark)}) must be below " +
                $"MaxPendingSendBytes ({Describe(MaxPendingSendBytes, DefaultMaxPendingSendBytes)}): a connection must stop reading before " +
                "its output reaches the cap. Set SendHighWatermark (and SendLowWatermark) below the cap too, or raise MaxPendingSendBytes.");
        }

        return this;
    }

    private static string Describe(long bytes, long defaultBytes) => bytes == defaultBytes
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes:N0} bytes, the default")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes:N0} bytes; default {defaultBytes:N0}");
}
