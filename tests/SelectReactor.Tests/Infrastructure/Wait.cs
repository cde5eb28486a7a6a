using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace SelectReactor.Tests.Infrastructure;

/// <summary>Bounded waits: slow only when a test is failing, never a hang.</summary>
internal static class Wait
{
    /// <summary>The one generous bound every wait in the suite shares.</summary>
    public static readonly TimeSpan Generous = TimeSpan.FromSeconds(15);

    public static T Result<T>(Task<T> task)
    {
        if (!task.Wait(Generous))
        {
            throw new TimeoutException($"Timed out after {Generous} waiting for a result.");
        }

        return task.Result;
    }

    public static void For(Task task)
    {
        if (!task.Wait(Generous))
        {
            throw new TimeoutException($"Timed out after {Generous} waiting for a task.");
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds, yielding between checks.</summary>
    public static void Until(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Generous)
            {
                throw new TimeoutException($"Timed out after {Generous} waiting until {what}.");
            }

            Thread.Yield();
            Thread.Sleep(1);
        }
    }
}
