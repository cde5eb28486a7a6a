using System;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Redis;

/// <summary>Runs Debian's redis-cli and redis-benchmark (package redis-tools) as processes, with bounded waits.</summary>
internal static class RedisTools
{
    public const string Missing = "redis-cli or redis-benchmark is not installed and could not be (Debian package redis-tools; .ci/run installs it with apt-get): the tests with Redis's own tools are skipped";

    public static bool Available { get; } = ExternalTool.OnPath("redis-cli") && ExternalTool.OnPath("redis-benchmark");

    public static (int ExitCode, string Stdout, string Stderr) Run(string tool, string arguments, string? stdin = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(tool, arguments)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
        }

        process.StandardInput.Close();
        if (!process.WaitForExit(timeout ?? Wait.Generous))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} {arguments} did not finish; stderr: {stderr.Result}");
        }

        return (process.ExitCode, Wait.Result(stdout), Wait.Result(stderr));
    }
}

/// <summary>A test that needs redis-tools: skipped, saying why, only where the tools are not installed.</summary>
internal sealed class RedisToolsFactAttribute : FactAttribute
{
    public RedisToolsFactAttribute()
    {
        if (!RedisTools.Available)
        {
            Skip = RedisTools.Missing;
        }
    }
}
