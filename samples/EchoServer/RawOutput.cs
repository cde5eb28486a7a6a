using System;
using System.IO;

namespace EchoServer;

/// <summary>
/// Standard output and standard error, set up once at startup. They are the console's writers, which call
/// <c>write(2)</c> at the descriptor's shared offset: a <c>FileStream</c> on descriptor 1 would write at a position of
/// its own (pwrite) and, with <c>&gt; log 2&gt;&amp;1</c>, the logger's next line would land on top of ours. With
/// AutoFlush each line goes out whole in one write, so lines from the two streams never mix.
/// </summary>
internal static class RawOutput
{
    public static TextWriter Out => Console.Out;

    public static TextWriter Error => Console.Error;

    /// <summary>
    /// Sets both writers up now, while descriptors are free: each holds a duplicate of its descriptor, and the
    /// console's first use sets up terminal handling. Done first thing, it cannot fail later for lack of a descriptor.
    /// </summary>
    public static void Initialize()
    {
        Console.Out.Flush();
        Console.Error.Flush();
    }
}
