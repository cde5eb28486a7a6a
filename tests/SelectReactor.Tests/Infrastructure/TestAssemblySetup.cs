using System.Runtime.CompilerServices;
using System.Threading;

namespace SelectReactor.Tests.Infrastructure;

/// <summary>Process-wide settings for the test run.</summary>
internal static class TestAssemblySetup
{
    /// <summary>
    /// Many tests drive real sockets with blocking calls from pool threads (Parallel.For over dozens of clients, each
    /// waiting on a reader task). With the default minimum the pool adds threads slowly, and on a 2-core machine a
    /// busy run could starve an unrelated test's continuation for many seconds (seen once: a DNS continuation that
    /// missed its 15 s bound). A higher minimum removes that coupling between tests; it changes no behaviour tested.
    /// </summary>
    [ModuleInitializer]
    internal static void RaiseThreadPoolMinimum()
    {
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(System.Math.Max(workers, 128), System.Math.Max(io, 128));
    }
}
