using System;
using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace RedisServer;

/// <summary>RESP2 replies, written in place into a buffer writer. Nothing here allocates.</summary>
internal static class Resp
{
    public static ReadOnlySpan<byte> Ok => "+OK\r\n"u8;

    public static ReadOnlySpan<byte> Pong => "+PONG\r\n"u8;

    public static ReadOnlySpan<byte> Null => "$-1\r\n"u8;

    public static ReadOnlySpan<byte> NullArray => "*-1\r\n"u8;

    public static ReadOnlySpan<byte> EmptyArray => "*0\r\n"u8;

    public static ReadOnlySpan<byte> WrongType => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"u8;

    public static ReadOnlySpan<byte> SyntaxError => "-ERR syntax error\r\n"u8;

    public static ReadOnlySpan<byte> NotAnInteger => "-ERR value is not an integer or out of range\r\n"u8;

    public static void Raw(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes) => output.Write(bytes);

    public static void Integer(IBufferWriter<byte> output, long value) => Number(output, (byte)':', value);

    public static void ArrayHeader(IBufferWriter<byte> output, long count) => Number(output, (byte)'*', count);

    public static void Bulk(IBufferWriter<byte> output, ReadOnlySpan<byte> value)
    {
        Span<byte> span = output.GetSpan(value.Length + 16);
        span[0] = (byte)'$';
        Utf8Formatter.TryFormat(value.Length, span[1..], out int digits);
        int at = 1 + digits;
        span[at++] = (byte)'\r';
        span[at++] = (byte)'\n';
        value.CopyTo(span[at..]);
        at += value.Length;
        span[at++] = (byte)'\r';
        span[at++] = (byte)'\n';
        output.Advance(at);
    }

    public static void Bulk(IBufferWriter<byte> output, string value) => Bulk(output, Encoding.UTF8.GetBytes(value));

    /// <summary>An error reply: "-" and the text, with any CR or LF turned into spaces as Redis does.</summary>
    public static void Error(IBufferWriter<byte> output, string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        for (int i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] is (byte)'\r' or (byte)'\n')
            {
                bytes[i] = (byte)' ';
            }
        }

        output.Write("-"u8);
        output.Write(bytes);
        output.Write("\r\n"u8);
    }

    private static void Number(IBufferWriter<byte> output, byte prefix, long value)
    {
        Span<byte> span = output.GetSpan(24);
        span[0] = prefix;
        Utf8Formatter.TryFormat(value, span[1..], out int digits);
        span[1 + digits] = (byte)'\r';
        span[2 + digits] = (byte)'\n';
        output.Advance(3 + digits);
    }
}
