using System;

namespace SelectReactor.Tests.Infrastructure;

internal static class ReactorTestExtensions
{
    /// <summary>True once the reactor refuses work from other threads (Post throws) because Dispose was called. Not from its own thread.</summary>
    public static bool RefusesWork(this Reactor reactor)
    {
        try
        {
            reactor.Post(() => { });
            return false;
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
    }
}
