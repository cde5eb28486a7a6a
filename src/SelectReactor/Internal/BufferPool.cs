using System.Buffers;
using System.Threading;

namespace SelectReactor;

/// <summary>
/// The pool every connection rents its buffers from: <see cref="ArrayPool{T}.Shared"/>, with a count of arrays
/// out, so tests and the soak can prove every rented buffer came back.
/// </summary>
internal static class BufferPool
{
    private static long _outstanding;

    /// <summary>Arrays rented and not yet returned, process-wide.</summary>
    public static long Outstanding => Volatile.Read(ref _outstanding);

    public static byte[] Rent(int minimumLength)
    {
        Interlocked.Increment(ref _outstanding);
        return ArrayPool<byte>.Shared.Rent(minimumLength);
    }

    public static void Return(byte[] array)
    {
        Interlocked.Decrement(ref _outstanding);
        ArrayPool<byte>.Shared.Return(array);
    }
}
