using System;

namespace RedisServer;

/// <summary>Redis's glob patterns for CONFIG GET: * ? [set] and \ escapes, ASCII case-insensitive.</summary>
internal static class Glob
{
    public static bool Matches(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text)
    {
        while (!pattern.IsEmpty)
        {
            switch (pattern[0])
            {
                case (byte)'*':
                    while (pattern.Length > 1 && pattern[1] == (byte)'*')
                    {
                        pattern = pattern[1..];
                    }

                    if (pattern.Length == 1)
                    {
                        return true;
                    }

                    for (int skip = 0; skip <= text.Length; skip++)
                    {
                        if (Matches(pattern[1..], text[skip..]))
                        {
                            return true;
                        }
                    }

                    return false;
                case (byte)'?':
                    if (text.IsEmpty)
                    {
                        return false;
                    }

                    text = text[1..];
                    pattern = pattern[1..];
                    break;
                case (byte)'[':
                    int close = pattern.IndexOf((byte)']');
                    if (close < 0 || text.IsEmpty)
                    {
                        return false;
                    }

                    ReadOnlySpan<byte> set = pattern[1..close];
                    bool negate = !set.IsEmpty && set[0] == (byte)'^';
                    bool found = (negate ? set[1..] : set).IndexOf(Lower(text[0])) >= 0 || (negate ? set[1..] : set).IndexOf(text[0]) >= 0;
                    if (found == negate)
                    {
                        return false;
                    }

                    text = text[1..];
                    pattern = pattern[(close + 1)..];
                    break;
                default:
                    if (pattern[0] == (byte)'\\' && pattern.Length > 1)
                    {
                        pattern = pattern[1..];
                    }

                    if (text.IsEmpty || Lower(pattern[0]) != Lower(text[0]))
                    {
                        return false;
                    }

                    text = text[1..];
                    pattern = pattern[1..];
                    break;
            }
        }

        return text.IsEmpty;
    }

    private static byte Lower(byte c) => c is >= (byte)'A' and <= (byte)'Z' ? (byte)(c | 0x20) : c;
}
