using System;
using System.Threading;

namespace SelectReactor;

/// <summary>Checks that several options' setters share, with messages that name the option, the value and the default.</summary>
internal static class OptionChecks
{
    /// <summary>A timeout that must be positive, or <see cref="Timeout.InfiniteTimeSpan"/> for none. Returns it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Zero or negative (other than infinite).</exception>
    public static TimeSpan PositiveOrInfinite(TimeSpan value, string option, string defaultValue)
    {
        if (value != Timeout.InfiniteTimeSpan && value <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(
                nameof(value),
                value,
                $"{option} must be positive, or Timeout.InfiniteTimeSpan for no limit; it was {value}. The default is {defaultValue}.");
        }

        return value;
    }
}
