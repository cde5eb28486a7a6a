using System;

namespace EchoClient;

/// <summary>
/// The bytes every connection sends: one pseudo-random pattern of a prime length, read at a per-connection offset, so
/// that a byte echoed to the wrong connection or at the wrong position is caught. The same generator and offsets as
/// echoload (../shared/bench/echoload.c), so both clients put the same bytes on the wire.
/// </summary>
internal static class Pattern
{
    /// <summary>Prime, so message sizes never line up with it.</summary>
    public const int Length = 65521;

    /// <summary>The pattern is repeated past <see cref="Length"/> by this much, so any slice up to it is contiguous.</summary>
    public const int Extra = 256 * 1024;

    /// <summary>The pattern followed by its own repetition, <see cref="Length"/> + max(<see cref="Extra"/>, largest message) bytes.</summary>
    public static byte[] Create(int largestSlice)
    {
        int extra = Math.Max(Extra, largestSlice);
        byte[] pattern = new byte[Length + extra];
        ulong x = 0x9E3779B97F4A7C15UL;
        for (int i = 0; i < Length; i++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            pattern[i] = (byte)(x >> 24);
        }

        for (int i = Length; i < pattern.Length; i++)
        {
            pattern[i] = pattern[i - Length];
        }

        return pattern;
    }

    /// <summary>Where connection <paramref name="index"/> starts reading the pattern.</summary>
    public static int Offset(int index) => (int)(((ulong)index * 7919UL + 12345UL) % Length);

    /// <summary>The pattern position of byte <paramref name="streamOffset"/> of a connection starting at <paramref name="offset"/>.</summary>
    public static int Position(int offset, long streamOffset) => (int)((offset + streamOffset) % Length);
}
