using System;
using System.IO;

namespace SelectReactor.Tests.Infrastructure;

/// <summary>Third-party programs the tests run as processes (openssl, redis-cli, redis-benchmark).</summary>
internal static class ExternalTool
{
    /// <summary>Whether <paramref name="tool"/> is found in a directory of PATH.</summary>
    public static bool OnPath(string tool)
    {
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(Path.Combine(directory, tool)))
            {
                return true;
            }
        }

        return false;
    }
}
