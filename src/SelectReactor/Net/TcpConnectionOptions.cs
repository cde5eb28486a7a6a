using System;
using System.Globalization;
using System.Threading;

namespace SelectReactor.Net;

/// <summary>Limits and behaviour of a <see cref="TcpConnection"/>. Read when a connection starts.</summary>
public sealed class TcpConnectionOptions
{
    private int _receiveBufferSize = 64 * 1024;
    private int _maxReadsPerReadiness = 4;
    private const long DefaultSendHighWatermark = 256 * 1024;
    private const long DefaultSendLowWatermark = 64 * 1024;
    private const long DefaultMaxPendingSendBytes = 4 * 1024 * 1024;
    private long _sendHighWatermark = DefaultSendHighWatermark;
    private long _sendLowWatermark = DefaultSendLowWatermark;
    private long _maxPendingSendBytes = DefaultMaxPendingSendBytes;
    private TimeSpan _idleTimeout = Timeout.InfiniteTimeSpan;
    private TimeSpan _closeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The size of the pooled buffer each read uses. Default 64 KiB; 256 bytes to 16 MiB.</summary>
    /// <remarks>The buffer is rented only while the socket is being read; an idle connection holds none.</remarks>
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
    /// Default 256 KiB. Must be at least <see cref="SendLowWatermark"/> and below <see cref="MaxPendingSendBytes"/>.
    /// </summary>
    public long SendHighWatermark
    {
        get => _sendHighWatermark;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _sendHighWatermark = value;
        }
    }

    /// <summary>Pending output at or below which a paused connection reads again and calls <see cref="ConnectionHandler.OnDrained"/>. Default 64 KiB.</summary>
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
    public TimeSpan IdleTimeout
    {
        get => _idleTimeout;
        set
        {
            if (value != Timeout.InfiniteTimeSpan && value <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "IdleTimeout must be positive or Timeout.InfiniteTimeSpan.");
            }

            _idleTimeout = value;
        }
    }

    /// <summary>
    /// How long <see cref="TcpConnection.Close"/> may take to send what is queued and see the peer's end of stream
    /// before the connection is dropped. Default 5 seconds.
    /// </summary>
    public TimeSpan CloseTimeout
    {
        get => _closeTimeout;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            _closeTimeout = value;
        }
    }

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
