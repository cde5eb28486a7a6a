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

    /// <summary>The size of a send segment.</summary>
    public const int SegmentSize = 16 * 1024;

    public static byte[] Rent(int minimumLength)
    {
        CountRented();
        return ArrayPool<byte>.Shared.Rent(minimumLength);
    }

    public static void Return(byte[] array)
    {
        CountReturned();
        ArrayPool<byte>.Shared.Return(array);
    }

    /// <summary>Counts an array as rented, for a cache in front of the pool (<see cref="SendScratch"/>) that hands one out.</summary>
    public static void CountRented()
    {
        if (Counting)
        {
            Interlocked.Increment(ref _outstanding);
        }
    }

    /// <summary>Counts an array as returned, for a cache in front of the pool that keeps it.</summary>
    public static void CountReturned()
    {
        if (Counting)
        {
            Interlocked.Decrement(ref _outstanding);
        }
    }
}
