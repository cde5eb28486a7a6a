using System;

namespace RedisServer;

/// <summary>
/// Splits an inline request into arguments as Redis's sdssplitargs does: words separated by whitespace, "double
/// quotes" with \n \r \t \b \a \\ \" and \xHH escapes, 'single quotes' with \' only; a closing quote must be followed
/// by whitespace or the end. The arguments are written into a scratch buffer, as escapes change the bytes.
/// </summary>
internal static class InlineSplitter
{
    public static bool Split(ReadOnlySpan<byte> line, byte[] scratch, ref int[] ranges, out int count)
    {
        count = 0;
        int i = 0;
        int written = 0;
        while (true)
        {
            while (i < line.Length && IsSpace(line[i]))
            {
                i++;
            }

            if (i == line.Length)
            {
                return true;
            }

            int start = written;
            bool inDouble = false;
            bool inSingle = false;
            bool done = false;
            while (!done)
            {
                if (inDouble)
                {
                    if (i == line.Length)
                    {
                        return false; // unterminated quotes
                    }

                    byte c = line[i];
                    if (c == (byte)'\\' && i + 3 < line.Length && line[i + 1] == (byte)'x' && IsHex(line[i + 2]) && IsHex(line[i + 3]))
                    {
                        scratch[written++] = (byte)((Hex(line[i + 2]) << 4) | Hex(line[i + 3]));
                        i += 3;
                    }
                    else if (c == (byte)'\\' && i + 1 < line.Length)
                    {
                        i++;
                        scratch[written++] = line[i] switch
                        {
                            (byte)'n' => (byte)'\n',
                            (byte)'r' => (byte)'\r',
                            (byte)'t' => (byte)'\t',
                            (byte)'b' => (byte)'\b',
                            (byte)'a' => (byte)'\a',
                            byte other => other,
                        };
                    }
                    else if (c == (byte)'"')
                    {
                        if (i + 1 < line.Length && !IsSpace(line[i + 1]))
                        {
                            return false; // closing quote must be followed by a space or nothing
                        }

                        done = true;
                    }
                    else
                    {
                        scratch[written++] = c;
                    }
                }
                else if (inSingle)
                {
                    if (i == line.Length)
                    {
                        return false;
                    }

                    byte c = line[i];
                    if (c == (byte)'\\' && i + 1 < line.Length && line[i + 1] == (byte)'\'')
                    {
                        i++;
                        scratch[written++] = (byte)'\'';
                    }
                    else if (c == (byte)'\'')
                    {
                        if (i + 1 < line.Length && !IsSpace(line[i + 1]))
                        {
                            return false;
                        }

                        done = true;
                    }
                    else
                    {
                        scratch[written++] = c;
                    }
                }
                else if (i == line.Length || IsSpace(line[i]))
                {
                    done = true;
                    i--; // the loop's increment below must not skip past the end
                }
                else if (line[i] == (byte)'"')
                {
                    inDouble = true;
                }
                else if (line[i] == (byte)'\'')
                {
                    inSingle = true;
                }
                else
                {
                    scratch[written++] = line[i];
                }

                i++;
            }

            if ((2 * count) + 1 >= ranges.Length)
            {
                Array.Resize(ref ranges, ranges.Length * 2);
            }

            ranges[2 * count] = start;
            ranges[(2 * count) + 1] = written - start;
            count++;
        }
    }

    private static bool IsSpace(byte c) => c is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t' or (byte)'\v' or (byte)'\f';

    private static bool IsHex(byte c) => c is >= (byte)'0' and <= (byte)'9' or >= (byte)'a' and <= (byte)'f' or >= (byte)'A' and <= (byte)'F';

    private static int Hex(byte c) => c <= (byte)'9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
