using System;
using System.Text;

namespace RedisServer;

/// <summary>A command's arguments: slices of the bytes received (or of the inline scratch), never copies.</summary>
internal readonly ref struct Arguments(ReadOnlySpan<byte> source, int[] ranges, int count)
{
    private readonly ReadOnlySpan<byte> _source = source;

    public int Count { get; } = count;

    public ReadOnlySpan<byte> this[int index] => _source.Slice(ranges[2 * index], ranges[(2 * index) + 1]);

    /// <summary>For error messages only: the argument as text (Redis prints arguments as they are).</summary>
    public string Text(int index) => Encoding.UTF8.GetString(this[index]);

    public bool Is(int index, string word) => System.Text.Ascii.EqualsIgnoreCase(this[index], word);

    /// <summary>Parses a signed 64-bit integer exactly as Redis's string2ll: no sign but '-', no spaces, no leading zeros.</summary>
    public bool TryInteger(int index, out long value) => TryParseInteger(this[index], out value);

    public static bool TryParseInteger(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 20)
        {
            return false;
        }

        if (text.Length == 1 && text[0] == (byte)'0')
        {
            return true;
        }

        bool negative = text[0] == (byte)'-';
        ReadOnlySpan<byte> digits = negative ? text[1..] : text;
        if (digits.IsEmpty || digits[0] is < (byte)'1' or > (byte)'9')
        {
            return false;
        }

        ulong magnitude = 0;
        foreach (byte b in digits)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            ulong next = (magnitude * 10) + (ulong)(b - '0');
            if (magnitude > ulong.MaxValue / 10 || next < magnitude)
            {
                return false;
            }

            magnitude = next;
        }

        if (negative)
        {
            if (magnitude > (ulong)long.MaxValue + 1)
            {
                return false;
            }

            value = (long)(0 - magnitude);
            return true;
        }

        if (magnitude > long.MaxValue)
        {
            return false;
        }

        value = (long)magnitude;
        return true;
    }
}
