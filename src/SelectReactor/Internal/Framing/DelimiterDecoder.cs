using System;
using SelectReactor.Net;

namespace SelectReactor.Net;

/// <summary>Frames ending at a delimiter of one or more bytes. Resumes its search where the last call stopped.</summary>
internal sealed class DelimiterDecoder(byte[] delimiter, int maxFrameLength) : FrameDecoder(maxFrameLength + delimiter.Length - 1)
{
    public override FrameStatus Decode(ReadOnlySpan<byte> buffered, ref int examined, out Range frame, out int consumed)
    {
        // A delimiter may straddle the end of what was examined: back up by all but one of its bytes.
        int from = Math.Max(0, Math.Min(examined, buffered.Length) - (delimiter.Length - 1));
        int found = buffered[from..].IndexOf(delimiter);
        if (found < 0)
        {
            frame = default;
            consumed = 0;
            examined = buffered.Length;
            return buffered.Length > MaxBufferedLength ? FrameStatus.TooLarge : FrameStatus.Incomplete;
        }

        int end = from + found;
        if (end > maxFrameLength)
        {
            frame = default;
            consumed = 0;
            return FrameStatus.TooLarge;
        }

        frame = new Range(0, end);
        consumed = end + delimiter.Length;
        return FrameStatus.Complete;
    }
}
