using System;
using System.Numerics;

namespace EchoClient;

/// <summary>
/// Round-trip times in nanoseconds, in log-linear buckets (2^7 sub-buckets per power of two, under 1% error), the same
/// layout as echoload's. Allocated once per worker; recording a message costs a few instructions and no allocation.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBits = 7;
    private const int Buckets = (64 - SubBits + 1) << SubBits;

    private readonly long[] _counts = new long[Buckets];

    public long Count { get; private set; }

    public long Sum { get; private set; }

    public long Min { get; private set; } = long.MaxValue;

    public long Max { get; private set; }

    public void Add(long nanoseconds)
    {
        ulong v = nanoseconds < 0 ? 0 : (ulong)nanoseconds;
        int index;
        if (v < (1UL << SubBits))
        {
            index = (int)v;
        }
        else
        {
            int msb = 63 - BitOperations.LeadingZeroCount(v);
            ulong mantissa = v >> (msb - SubBits); // in [2^SubBits, 2^(SubBits+1))
            index = ((msb - SubBits + 1) << SubBits) + (int)(mantissa - (1UL << SubBits));
        }

        _counts[index]++;
        Count++;
        Sum += (long)v;
        Min = Math.Min(Min, (long)v);
        Max = Math.Max(Max, (long)v);
    }

    public void Merge(LatencyHistogram other)
    {
        for (int i = 0; i < Buckets; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        Sum += other.Sum;
        Min = Math.Min(Min, other.Min);
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>The value at quantile <paramref name="q"/> (0 to 1), in microseconds: the middle of its bucket.</summary>
    public double PercentileMicros(double q)
    {
        if (Count == 0)
        {
            return 0;
        }

        long want = Math.Max(1, (long)Math.Ceiling(q * Count));
        long cumulative = 0;
        for (int i = 0; i < Buckets; i++)
        {
            cumulative += _counts[i];
            if (cumulative >= want)
            {
                double v = Math.Clamp(BucketMiddle(i), Min, Max);
                return v / 1000.0;
            }
        }

        return Max / 1000.0;
    }

    public double MeanMicros => Count == 0 ? 0 : (double)Sum / Count / 1000.0;

    private static double BucketMiddle(int index)
    {
        if (index < (1 << SubBits))
        {
            return index;
        }

        int exponent = index >> SubBits;
        ulong mantissa = (1UL << SubBits) + (ulong)(index & ((1 << SubBits) - 1));
        ulong low = mantissa << (exponent - 1);
        ulong width = 1UL << (exponent - 1);
        return low + (width - 1) / 2.0;
    }
}
