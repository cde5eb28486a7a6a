using System;
using System.Buffers;
using System.Threading;

namespace SelectReactor;

/// <summary>
/// The pool every connection rents its buffers from: <see cref="ArrayPool{T}.Shared"/>, optionally counting the
/// arrays that are out so that tests and the soak can prove every rented buffer came back.
/// </summary>
/// <remarks>
/// Counting costs two interlocked operations per buffer, so it is off unless the process turns on the
/// <see cref="CountingSwitch"/> <see cref="AppContext"/> switch before the first rent (the test project does, in its
/// runtimeconfig). The flag is a <c>static readonly</c> field, which the JIT folds to a constant: with counting off,
/// the count costs nothing.
/// </remarks>
internal static class BufferPool
{
    /// <summary>The <see cref="AppContext"/> switch that turns counting on.</summary>
    public const string CountingSwitch = "SelectReactor.CountPooledBuffers";

    private static readonly bool Counting = AppContext.TryGetSwitch(CountingSwitch, out bool on) && on;

    private static long _outstanding;

    /// <summary><see langword="true"/> when <see cref="Outstanding"/> is kept (the switch was on at first use).</summary>
    public static bool IsCounting => Counting;

    /// <summary>Arrays rented and not yet returned, process-wide. Always 0 unless <see cref="IsCounting"/>.</summary>
    public static long Outstanding => Volatile.Read(ref _outstanding);

    /// <summary>The size of a send segment, the array rented and returned once per reply on a busy connection.</summary>
    public const int SegmentSize = 16 * 1024;

    // One segment kept per thread in front of the shared pool: a reactor thread that sends a reply per callback takes
    // and gives back the same array every time, for a thread-static read instead of the pool's bucket lookup.
    [ThreadStatic]
    private static byte[]? t_segment;

    public static byte[] Rent(int minimumLength)
    {
        if (Counting)
        {
            Interlocked.Increment(ref _outstanding);
        }

        if (minimumLength <= SegmentSize && t_segment is { } segment)
        {
            t_segment = null;
            return segment;
        }

        return ArrayPool<byte>.Shared.Rent(minimumLength);
    }

    public static void Return(byte[] array)
    {
        if (Counting)
        {
            Interlocked.Decrement(ref _outstanding);
        }

        if (array.Length == SegmentSize && t_segment is null)
        {
            t_segment = array; // back in the pool, as far as anyone counting is concerned
            return;
        }

        ArrayPool<byte>.Shared.Return(array);
    }
}
