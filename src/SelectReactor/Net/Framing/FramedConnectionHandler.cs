using System;
using System.Threading.Tasks;

namespace SelectReactor.Net;

/// <summary>
/// A connection handler for a framed protocol: a <see cref="FrameDecoder"/> cuts the byte stream into frames and
/// <see cref="OnFrame"/> gets each one, in order, without a copy when the frame arrived whole.
/// </summary>
/// <remarks>
/// <para>
/// One instance per connection; the decoder may be shared. Everything <see cref="ParsingConnectionHandler"/> says
/// holds: the pending buffer exists only while a frame is incomplete, a frame over the decoder's maximum closes the
/// connection with <see cref="ConnectionCloseReason.FrameTooLarge"/>, a frame the decoder finds invalid with
/// <see cref="ConnectionCloseReason.ProtocolError"/>.
/// </para>
/// <para>
/// <see cref="OnFrame"/> returns a <see cref="ValueTask"/>: return <see langword="default"/> when the frame is
/// handled, or the task of an <c>async</c> method that handles it later. Until that task completes, no further
/// frame is delivered (frames already received wait) and the connection does not read; code after each
/// <c>await</c> runs on the reactor thread; a failure closes only this connection.
/// </para>
/// </remarks>
public abstract class FramedConnectionHandler : ParsingConnectionHandler
{
    private readonly FrameDecoder _decoder;
    private int _examined;

    /// <summary>Creates the handler over <paramref name="decoder"/>.</summary>
    /// <param name="decoder">Finds the frames; may be shared by every connection.</param>
    /// <exception cref="ArgumentNullException"><paramref name="decoder"/> is <see langword="null"/>.</exception>
    protected FramedConnectionHandler(FrameDecoder decoder)
        : base(MaxBufferedLengthOf(decoder))
    {
        _decoder = decoder;
    }

    /// <summary>One whole frame arrived. Runs on the reactor thread.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="frame">The frame, as the decoder cut it. Valid only during the call: copy what must outlive it
    /// (an <c>async</c> method cannot take it as a parameter, which makes that hard to get wrong).</param>
    /// <returns><see langword="default"/> when done; otherwise work to wait for before the next frame.</returns>
    protected abstract ValueTask OnFrame(TcpConnection connection, ReadOnlySpan<byte> frame);

    /// <summary>Hands over every whole frame in <paramref name="buffered"/>, stopping early to wait for work.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="buffered">The bytes received and not yet consumed.</param>
    /// <returns>The bytes the delivered frames occupied.</returns>
    /// <exception cref="InvalidOperationException">The decoder reported an impossible frame or length.</exception>
    protected sealed override int Parse(TcpConnection connection, ReadOnlySpan<byte> buffered)
    {
        int total = 0;
        while (true)
        {
            ReadOnlySpan<byte> rest = buffered[total..];
            FrameStatus status = _decoder.Decode(rest, ref _examined, out Range frame, out int consumed);
            switch (status)
            {
                case FrameStatus.Complete:
                    if (consumed < 1 || consumed > rest.Length)
                    {
                        throw new InvalidOperationException($"The decoder {_decoder.GetType().Name} consumed {consumed} of {rest.Length} bytes; a frame consumes at least 1 and at most what is there.");
                    }

                    (int offset, int length) = frame.GetOffsetAndLength(consumed); // throws for a frame outside what it consumed

                    _examined = 0;
                    total += consumed;
                    ValueTask work = OnFrame(connection, rest.Slice(offset, length));
                    if (work.IsCompletedSuccessfully)
                    {
                        work.GetAwaiter().GetResult(); // consumed, as a ValueTask must be (a pooled source is recycled here)
                    }
                    else
                    {
                        SuspendUntil(work);
                    }

                    if (IsSuspended || !connection.IsOpen)
                    {
                        return total;
                    }

                    break;
                case FrameStatus.Incomplete:
                    return total;
                case FrameStatus.TooLarge:
                    CloseForFrameTooLarge(connection);
                    return total;
                default:
                    CloseForProtocolError(connection, $"the {_decoder.GetType().Name} found an invalid frame");
                    return total;
            }
        }
    }

    private static int MaxBufferedLengthOf(FrameDecoder decoder)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        return decoder.MaxBufferedLength;
    }
}
