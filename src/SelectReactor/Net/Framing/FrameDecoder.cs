using System;

namespace SelectReactor.Net;

/// <summary>
/// Finds one frame at the start of a connection's buffered bytes: the input side of a protocol, for
/// <see cref="FramedConnectionHandler"/>. The static methods give the usual framings (lines, a delimiter, a length
/// field, a fixed length); derive from this class for another one.
/// </summary>
/// <remarks>
/// A decoder keeps no per-connection state (what it needs to resume is the <c>examined</c> count the handler keeps),
/// so one instance may serve every connection, on any number of reactors. The ready-made decoders never size
/// anything by a length the peer declares: a declared length above the maximum is <see cref="FrameStatus.TooLarge"/>
/// at once, and the handler's buffer grows only with bytes that actually arrived.
/// </remarks>
public abstract class FrameDecoder
{
    /// <summary>Sets the most bytes one incomplete frame may occupy.</summary>
    /// <param name="maxBufferedLength">See <see cref="MaxBufferedLength"/>; at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBufferedLength"/> is less than 1 or above <see cref="Array.MaxLength"/> - 1 (the connection's buffer holds one byte more, to see a frame pass the maximum).</exception>
    protected FrameDecoder(int maxBufferedLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBufferedLength, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxBufferedLength, Array.MaxLength - 1);
        MaxBufferedLength = maxBufferedLength;
    }

    /// <summary>
    /// The most bytes one incomplete frame may occupy in the connection's buffer, header and delimiter included.
    /// More than this without a whole frame closes the connection with <see cref="ConnectionCloseReason.FrameTooLarge"/>.
    /// </summary>
    public int MaxBufferedLength { get; }

    /// <summary>Frames that end at a line feed; a carriage return just before it is dropped too (LF or CRLF).</summary>
    /// <param name="maxLineLength">The longest line, delimiter excluded; a longer one closes the connection.</param>
    /// <returns>A decoder handing over each line without its delimiter.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLineLength"/> is less than 1 or above <see cref="Array.MaxLength"/> - 2.</exception>
    public static FrameDecoder Lines(int maxLineLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineLength, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxLineLength, Array.MaxLength - 2);
        return new LineDecoder(maxLineLength);
    }

    /// <summary>Frames that end at <paramref name="delimiter"/>, a sequence of one or more bytes.</summary>
    /// <param name="delimiter">The bytes that end each frame; copied.</param>
    /// <param name="maxFrameLength">The longest frame, delimiter excluded; a longer one closes the connection.</param>
    /// <returns>A decoder handing over each frame without its delimiter.</returns>
    /// <exception cref="ArgumentException"><paramref name="delimiter"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxFrameLength"/> is less than 1, or the frame and delimiter together pass <see cref="Array.MaxLength"/>.</exception>
    public static FrameDecoder Delimited(ReadOnlySpan<byte> delimiter, int maxFrameLength)
    {
        if (delimiter.IsEmpty)
        {
            throw new ArgumentException("The delimiter must have at least one byte.", nameof(delimiter));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(maxFrameLength, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxFrameLength, Array.MaxLength - delimiter.Length);
        return new DelimiterDecoder(delimiter.ToArray(), maxFrameLength);
    }

    /// <summary>
    /// Frames announced by a length field: <paramref name="lengthFieldOffset"/> bytes of anything, the length field,
    /// then as many bytes as the field says plus <paramref name="lengthAdjustment"/> (Netty's
    /// <c>LengthFieldBasedFrameDecoder</c> semantics).
    /// </summary>
    /// <param name="lengthFieldSize">The field's size in bytes: 1, 2, 4 or 8, read as an unsigned number.</param>
    /// <param name="maxFrameLength">The longest frame on the wire, header included. A header that declares more
    /// closes the connection at once, before anything is allocated for it.</param>
    /// <param name="bigEndian"><see langword="true"/> (the default, network order) or <see langword="false"/> for little-endian.</param>
    /// <param name="lengthFieldOffset">Bytes before the length field, part of the header. Default 0.</param>
    /// <param name="lengthAdjustment">Added to the field's value to give the bytes that follow the field: for
    /// instance minus the field's size when the length counts the field itself. Default 0.</param>
    /// <param name="stripHeader"><see langword="true"/> (the default) to hand over only the bytes after the length
    /// field; <see langword="false"/> to hand over the whole frame, header included.</param>
    /// <returns>The decoder.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size other than 1, 2, 4 or 8; a negative offset; a maximum
    /// smaller than the header or above <see cref="Array.MaxLength"/> - 1.</exception>
    public static FrameDecoder LengthField(int lengthFieldSize, int maxFrameLength, bool bigEndian = true, int lengthFieldOffset = 0, int lengthAdjustment = 0, bool stripHeader = true)
    {
        if (lengthFieldSize is not (1 or 2 or 4 or 8))
        {
            throw new ArgumentOutOfRangeException(nameof(lengthFieldSize), lengthFieldSize, "The length field must be 1, 2, 4 or 8 bytes.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(lengthFieldOffset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(lengthFieldOffset, Array.MaxLength - lengthFieldSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFrameLength, lengthFieldOffset + lengthFieldSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxFrameLength, Array.MaxLength - 1);
        return new LengthFieldDecoder(lengthFieldSize, maxFrameLength, bigEndian, lengthFieldOffset, lengthAdjustment, stripHeader);
    }

    /// <summary>Frames of exactly <paramref name="frameLength"/> bytes.</summary>
    /// <param name="frameLength">The length of every frame, at least 1.</param>
    /// <returns>The decoder.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="frameLength"/> is less than 1 or above <see cref="Array.MaxLength"/> - 1.</exception>
    public static FrameDecoder FixedLength(int frameLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(frameLength, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(frameLength, Array.MaxLength - 1);
        return new FixedLengthDecoder(frameLength);
    }

    /// <summary>Looks for one whole frame at the start of <paramref name="buffered"/>.</summary>
    /// <param name="buffered">The bytes received and not yet consumed; they start at a frame boundary.</param>
    /// <param name="examined">On entry, how many leading bytes of <paramref name="buffered"/> earlier calls for this
    /// same frame examined without finding its end (0 for a new frame): a decoder that searches starts there, so a
    /// frame arriving one byte at a time costs linear time, not quadratic. On <see cref="FrameStatus.Incomplete"/>,
    /// set it to how many bytes are examined now; the handler resets it to 0 after each whole frame.</param>
    /// <param name="frame">On <see cref="FrameStatus.Complete"/>, the frame's bytes within <paramref name="buffered"/> (inside the consumed part).</param>
    /// <param name="consumed">On <see cref="FrameStatus.Complete"/>, the bytes the frame occupies, header and delimiter included; at least 1.</param>
    /// <returns>What was found.</returns>
    /// <remarks>Called on the reactor thread. Return <see cref="FrameStatus.TooLarge"/> as soon as the frame is known
    /// to pass the maximum (a declared length, or too many bytes without a delimiter).</remarks>
    public abstract FrameStatus Decode(ReadOnlySpan<byte> buffered, ref int examined, out Range frame, out int consumed);
}
