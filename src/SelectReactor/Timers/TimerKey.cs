using System;

namespace SelectReactor;

/// <summary>Heap order for timers: due time first, then insertion order so equal due times fire first-in first-out.</summary>
internal readonly record struct TimerKey(long Due, long Sequence) : IComparable<TimerKey>
{
    public int CompareTo(TimerKey other)
    {
        int byDue = Due.CompareTo(other.Due);
        return byDue != 0 ? byDue : Sequence.CompareTo(other.Sequence);
    }
}
