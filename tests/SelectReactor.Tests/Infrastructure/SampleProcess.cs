using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using System.Threading.Tasks;

namespace SelectReactor.Tests.Infrastructure;

/// <summary>A sample, started as a real process (optionally under prlimit), with its output captured through pipes.</summary>
internal sealed partial class SampleProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly TaskCompletionSource<string> _firstLine = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>System calls that take a descriptor slot before they block: open, openat, openat2, accept, accept4.</summary>
    private static readonly int[] SlotReservingCalls = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => [2, 257, 437, 43, 288],
        Architecture.Arm64 => [56, 437, 202, 242],
        _ => [],
    };

    private SampleProcess(string arguments, string? prefix, string dll, Action<SampleProcess, string>? onFirstLine = null, (string Name, string Value)? environment = null)
    {
        var start = new ProcessStartInfo
        {
            FileName = prefix is null ? "dotnet" : prefix.Split(' ')[0],
            Arguments = prefix is null
                ? $"\"{dll}\" {arguments}"
                : $"{prefix[(prefix.IndexOf(' ') + 1)..]} dotnet \"{dll}\" {arguments}",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (environment is { } variable)
        {
            start.Environment[variable.Name] = variable.Value;
        }

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _stdout.Enqueue(e.Data);
                if (!_firstLine.Task.IsCompleted)
                {
                    // Here, on the reading thread, as soon as the line is read: no scheduling delay.
                    onFirstLine?.Invoke(this, e.Data);
                }

                _firstLine.TrySetResult(e.Data);
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _stderr.Enqueue(e.Data);
            }
        };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public static string SampleDll { get; } = FindSample();

    /// <summary>The repository root: the folder above the test binaries that holds SelectReactor.sln.</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    public int Id => _process.Id;

    public string[] StdoutLines => _stdout.ToArray();

    public string Stderr => string.Join('\n', _stderr);

    public static SampleProcess Start(string arguments, string? prefix = null) => new(arguments, prefix, SampleDll);

    /// <summary>Starts a sample by its project name under samples/; <paramref name="onFirstLine"/> runs as soon as its first line is read.</summary>
    public static SampleProcess StartSample(
        string sample,
        string arguments,
        string? prefix = null,
        Action<SampleProcess, string>? onFirstLine = null,
        (string Name, string Value)? environment = null) =>
        new(arguments, prefix, FindSample(sample), onFirstLine, environment);

    /// <summary>Descriptors the process has open now, from /proc.</summary>
    public int OpenDescriptors() => Directory.GetFileSystemEntries($"/proc/{_process.Id}/fd").Length;

    /// <summary>The process's soft limit on open descriptors (RLIMIT_NOFILE), from /proc.</summary>
    public int DescriptorLimit()
    {
        string line = File.ReadAllLines($"/proc/{_process.Id}/limits").Single(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        return int.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3], CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Descriptor slots under <paramref name="limit"/> taken now, as the kernel counts them when it hands out the next
    /// one: the open descriptors numbered below the limit (one inherited from the parent above it takes no slot), plus
    /// one for each thread blocked in open or accept. Such a call reserves its slot before it blocks and /proc lists it
    /// only once the call returns; the runtime's debugger thread waits like that, opening a FIFO, for the life of the
    /// process. Counting /proc alone was one short (or right by luck, when the parent leaked a high descriptor).
    /// </summary>
    public int DescriptorSlotsInUse(int limit)
    {
        int slots = 0;
        foreach (string entry in Directory.GetFileSystemEntries($"/proc/{_process.Id}/fd"))
        {
            if (int.Parse(Path.GetFileName(entry), CultureInfo.InvariantCulture) < limit)
            {
                slots++;
            }
        }

        foreach (string task in Directory.GetDirectories($"/proc/{_process.Id}/task"))
        {
            try
            {
                string call = File.ReadAllText(Path.Combine(task, "syscall")).Split(' ')[0];
                if (int.TryParse(call, NumberStyles.None, CultureInfo.InvariantCulture, out int number) && SlotReservingCalls.Contains(number))
                {
                    slots++;
                }
            }
            catch (IOException)
            {
                // expected: the thread ended while we looked
            }
            catch (UnauthorizedAccessException)
            {
                // a sandbox that hides other threads' system calls: /proc's own count is the best there is
            }
        }

        return slots;
    }

    /// <summary>The path of a sample's built assembly.</summary>
    public static string Dll(string sample) => FindSample(sample);

    /// <summary>The loopback port named in a sample's ready line ("listening on 127.0.0.1:PORT", "echoing on ...").</summary>
    public static int PortIn(string line)
    {
        Match match = PortInLine().Match(line);
        return match.Success
            ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"no 127.0.0.1:PORT in '{line}'");
    }

    /// <summary>Starts the sample and waits for its "listening on" line; returns the process and the port.</summary>
    public static (SampleProcess Process, int Port) StartListening(string arguments = "--port 0", string? prefix = null)
    {
        var process = Start(arguments, prefix);
        string line = process.WaitFirstLine();
        Match match = ListeningLine().Match(line);
        if (!match.Success)
        {
            process.Dispose();
            throw new InvalidOperationException($"unexpected first line '{line}'; stderr: {process.Stderr}");
        }

        return (process, int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    public string WaitFirstLine()
    {
        if (!_firstLine.Task.Wait(Wait.Generous))
        {
            throw new TimeoutException($"the sample printed nothing; stderr: {Stderr}");
        }

        return _firstLine.Task.Result;
    }

    /// <summary>Waits for exit; returns the exit code, or null if it did not exit in time.</summary>
    public bool HasExited => _process.HasExited;

    public int? WaitExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            return null;
        }

        _process.WaitForExit(); // flushes the redirected streams
        return _process.ExitCode;
    }

    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>User plus system CPU time of the process, from /proc.</summary>
    public TimeSpan CpuTime()
    {
        _process.Refresh();
        return _process.TotalProcessorTime;
    }

    /// <summary>A field of /proc/PID/status in kB, such as VmRSS or VmHWM.</summary>
    public long StatusKb(string field)
    {
        foreach (string line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"no {field} in /proc/{_process.Id}/status");
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }

        _process.Dispose();
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [GeneratedRegex(@"^listening on 127\.0\.0\.1:(\d+)$")]
    private static partial Regex ListeningLine();

    [GeneratedRegex(@"127\.0\.0\.1:(\d+)")]
    private static partial Regex PortInLine();

    private static string FindRoot()
    {
        string? directory = AppContext.BaseDirectory;
        while (directory is not null && !File.Exists(Path.Combine(directory, "SelectReactor.sln")))
        {
            directory = Path.GetDirectoryName(directory);
        }

        return directory ?? throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
    }

    private static string FindSample(string sample = "EchoServer")
    {
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        string dll = Path.Combine(FindRoot(), "samples", sample, "bin", configuration, "net10.0", sample + ".dll");
        return File.Exists(dll) ? dll : throw new InvalidOperationException($"the sample is not built: {dll}");
    }
}

internal static class Signals
{
    public const int SIGINT = 2;
    public const int SIGTERM = 15;
}
