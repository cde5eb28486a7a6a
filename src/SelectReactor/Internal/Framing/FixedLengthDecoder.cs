using System;
using SelectReactor.Net;

namespace SelectReactor.Net;

/// <summary>Frames of one fixed length.</summary>
internal sealed class FixedLengthDecoder(int length) : FrameDecoder(length)
{
    private int FrameLength => MaxBufferedLength;

    public override FrameStatus Decode(ReadOnlySpan<byte> buffered, ref int examined, out Range frame, out int consumed)
    {
        if (buffered.Length < FrameLength)
        {
            frame = default;
            consumed = 0;
            return FrameStatus.Incomplete;
        }

        frame = new Range(0, FrameLength);
        consumed = FrameLength;
        return FrameStatus.Complete;
    }
}
