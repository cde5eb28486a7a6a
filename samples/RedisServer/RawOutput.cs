using System;
using System.IO;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace RedisServer;

/// <summary>
/// Writers on descriptors 1 and 2 that bypass System.Console. Console's first write sets up terminal handling,
/// which needs descriptors of its own; under a tight descriptor limit that alone can fail. (Encoding.Default is
/// UTF-8 without a byte-order mark, and needs no extra assembly.)
/// </summary>
internal static class RawOutput
{
    public static TextWriter Out { get; } = Create(1);

    public static TextWriter Error { get; } = Create(2);

    private static TextWriter Create(int descriptor)
    {
        var stream = new FileStream(new SafeFileHandle(descriptor, ownsHandle: false), FileAccess.Write, bufferSize: 0);
        return TextWriter.Synchronized(new StreamWriter(stream, Encoding.Default) { AutoFlush = true });
    }
}
