using System.IO;
using System.Text;

namespace EchoServer;

/// <summary>
/// Writers on standard output and standard error, set up once at startup. They write through the console streams,
/// which call <c>write(2)</c> at the descriptor's shared offset: a <c>FileStream</c> on descriptor 1 would write at a
/// position of its own (pwrite) and, with <c>&gt; log 2&gt;&amp;1</c>, the logger's next line would land on top of ours.
/// Each line goes out whole in one write, so lines from the two streams never mix.
/// </summary>
internal static class RawOutput
{
    public static TextWriter Out { get; } = Create(System.Console.OpenStandardOutput());

    public static TextWriter Error { get; } = Create(System.Console.OpenStandardError());

    /// <summary>Touches both writers, so that whatever the console sets up happens now, while descriptors are free.</summary>
    public static void Initialize()
    {
        _ = Out;
        _ = Error;
    }

    private static TextWriter Create(Stream stream)
    {
        // An empty write sets the console up now (terminal settings, when there is a terminal), not at the first
        // line written, which could come when the process has run out of descriptors.
        stream.Write([]);
        return TextWriter.Synchronized(new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { AutoFlush = true });
    }
}
