using System;
using System.IO;

namespace RedisServer;

/// <summary>
/// Standard output and standard error, set up once at startup: the console's writers, which call <c>write(2)</c> at
/// the descriptor's shared offset. (A <c>FileStream</c> on descriptor 1 writes at a position of its own, so with
/// <c>&gt; log 2&gt;&amp;1</c> the logger's next line would land on top of ours.)
/// </summary>
internal static class RawOutput
{
    public static TextWriter Out => Console.Out;

    public static TextWriter Error => Console.Error;

    /// <summary>Sets both up now, while descriptors are free, not at their first line.</summary>
    public static void Initialize()
    {
        Console.Out.Flush();
        Console.Error.Flush();
    }
}
