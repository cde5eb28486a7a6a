using System;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace SelectReactor.Tests.Infrastructure;

/// <summary>OpenSSL's <c>s_client</c> as a real third-party TLS client, run as a process with bounded waits.</summary>
internal static class OpenSslClient
{
    public const string Missing = "openssl is not installed and could not be (Debian package openssl; .ci/run installs it with apt-get): the tests with openssl s_client are skipped";

    public static bool Available { get; } = ExternalTool.OnPath("openssl");

    /// <summary>
    /// Runs <c>openssl s_client</c> against <paramref name="endPoint"/> with <paramref name="arguments"/>, writes
    /// <paramref name="lines"/> to it one at a time (waiting <paramref name="pause"/> between them, so each is its own
    /// record and command), then closes its input. Returns its output once it exits.
    /// </summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(EndPoint endPoint, string arguments, string[] lines, TimeSpan pause)
    {
        var start = new ProcessStartInfo("openssl", $"s_client -connect {endPoint} {arguments}")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var stdout = new StringBuilder();
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (stdout)
            {
                stdout.AppendLine(e.Data);
            }

            if (e.Data.StartsWith("---", StringComparison.Ordinal) || e.Data.Contains("CONNECTED", StringComparison.Ordinal))
            {
                connected.TrySetResult();
            }
        };
        process.BeginOutputReadLine();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        connected.Task.Wait(Wait.Generous);
        foreach (string line in lines)
        {
            Thread.Sleep(pause); // pacing for a separate process's commands, not synchronisation of our own code
            try
            {
                process.StandardInput.WriteLine(line);
                process.StandardInput.Flush();
            }
            catch (IOException)
            {
                break; // expected once s_client has exited (the server closed)
            }
        }

        Thread.Sleep(pause);
        try
        {
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // Expected once s_client has exited.
        }

        if (!process.WaitForExit(Wait.Generous))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"openssl s_client {arguments} did not finish; stderr: {stderr.Result}");
        }

        process.WaitForExit(); // drains the asynchronous output
        lock (stdout)
        {
            return (process.ExitCode, stdout.ToString(), Wait.Result(stderr));
        }
    }
}

/// <summary>A test that needs openssl: skipped, saying why, only where it is not installed.</summary>
internal sealed class OpenSslFactAttribute : FactAttribute
{
    public OpenSslFactAttribute()
    {
        if (!OpenSslClient.Available)
        {
            Skip = OpenSslClient.Missing;
        }
    }
}

/// <summary>A theory that needs openssl: skipped, saying why, only where it is not installed.</summary>
internal sealed class OpenSslTheoryAttribute : TheoryAttribute
{
    public OpenSslTheoryAttribute()
    {
        if (!OpenSslClient.Available)
        {
            Skip = OpenSslClient.Missing;
        }
    }
}
