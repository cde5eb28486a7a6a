using System;
using SelectReactor.Net;

namespace SelectReactor.Net;

/// <summary>Lines ending at LF, with a CR before it dropped too. Resumes its search where the last call stopped.</summary>
internal sealed class LineDecoder(int maxLineLength) : FrameDecoder(maxLineLength + 1)
{
    public override FrameStatus Decode(ReadOnlySpan<byte> buffered, ref int examined, out Range frame, out int consumed)
    {
        int from = Math.Min(examined, buffered.Length);
        int found = buffered[from..].IndexOf((byte)'\n');
        if (found < 0)
        {
            frame = default;
            consumed = 0;
            examined = buffered.Length;

            // A line of the maximum length may still be followed by CR, then LF: up to max + 1 bytes can be innocent.
            return buffered.Length > maxLineLength + 1 ? FrameStatus.TooLarge : FrameStatus.Incomplete;
        }

        int lineFeed = from + found;
        int end = lineFeed > 0 && buffered[lineFeed - 1] == (byte)'\r' ? lineFeed - 1 : lineFeed;
        if (end > maxLineLength)
        {
            frame = default;
            consumed = 0;
            return FrameStatus.TooLarge;
        }

        frame = new Range(0, end);
        consumed = lineFeed + 1;
        return FrameStatus.Complete;
    }
}
