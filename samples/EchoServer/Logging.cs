using System;
using System.IO;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace EchoServer;

/// <summary>Builds the sample's logger factory. Logs go to stderr, so stdout carries only the "listening on" line.</summary>
internal static class Logging
{
    /// <summary>Below this many descriptors the console provider is not used (see <see cref="Create"/>).</summary>
    private const long TightDescriptorLimit = 256;

    /// <summary>
    /// Microsoft.Extensions.Logging's console provider, normally. On Linux every loaded assembly keeps two descriptors
    /// open, and the console provider brings about a dozen assemblies (dependency injection, configuration,
    /// options), roughly 30 descriptors. Under a very tight limit (for example <c>prlimit --nofile=64</c>) that would
    /// leave the server no room at all, so there it logs through a minimal stderr provider instead.
    /// </summary>
    public static ILoggerFactory Create(LogLevel level, out bool minimal)
    {
        minimal = DescriptorLimit() < TightDescriptorLimit;
        return minimal ? new MinimalFactory(new StderrLoggerProvider(level)) : CreateConsole(level);
    }

    /// <summary>Kept apart so that the minimal path never loads the console provider's assemblies.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ILoggerFactory CreateConsole(LogLevel level)
    {
        return LoggerFactory.Create(logging => logging
            .SetMinimumLevel(level)
            .AddSimpleConsole(console => console.SingleLine = true)
            .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace));
    }

    /// <summary>The soft limit on open descriptors, from /proc/self/limits; unlimited where that is unavailable.</summary>
    private static long DescriptorLimit()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    string[] fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return long.TryParse(fields[0], out long soft) ? soft : long.MaxValue;
                }
            }
        }
        catch (IOException)
        {
            // Not Linux, or /proc is not mounted: assume there is room.
        }
        catch (UnauthorizedAccessException)
        {
            // Same as above.
        }

        return long.MaxValue;
    }

    private sealed class MinimalFactory(ILoggerProvider provider) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => provider.CreateLogger(categoryName);

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose() => provider.Dispose();
    }
}
