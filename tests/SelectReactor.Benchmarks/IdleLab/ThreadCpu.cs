using System.Runtime.InteropServices;

namespace SelectReactor.Benchmarks.IdleLab;

/// <summary>The calling thread's CPU time (user + system), from clock_gettime(CLOCK_THREAD_CPUTIME_ID).</summary>
internal static class ThreadCpu
{
    private const int ClockThreadCpuTime = 3;

    /// <summary>CPU time consumed by the calling thread so far, in nanoseconds.</summary>
    public static long Nanoseconds()
    {
        return ClockGetTime(ClockThreadCpuTime, out Timespec t) == 0 ? (t.Seconds * 1_000_000_000L) + t.Nanoseconds : 0;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int ClockGetTime(int clock, out Timespec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
