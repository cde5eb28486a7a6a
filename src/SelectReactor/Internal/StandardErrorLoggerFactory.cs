using System;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using Microsoft.Extensions.Logging;

namespace SelectReactor;

/// <summary>
/// What a reactor logs through when <see cref="ReactorOptions.LoggerFactory"/> is null: warnings and errors (a handler
/// that threw, a dead socket, running out of descriptors) as one line each on standard error, so that a fault is seen
/// without any configuration. Nothing below Warning, so it costs nothing on the hot path.
/// </summary>
/// <remarks>
/// It writes with the C library's <c>write(2)</c> on descriptor 2, looked up once in the already loaded C library:
/// no extra assembly, no descriptor of its own, so it keeps working when the process has run out of descriptors, and
/// it writes at the descriptor's shared offset, so lines are never lost when stdout and stderr share a file
/// (<c>&gt; log 2&gt;&amp;1</c>), which a <c>FileStream</c> (writing at its own cached position) would overwrite.
/// Where there is no such function (Windows) it falls back to <see cref="Console.Error"/>.
/// </remarks>
internal sealed class StandardErrorLoggerFactory : ILoggerFactory
{
    public static readonly StandardErrorLoggerFactory Instance = new(StandardErrorDescriptor);

    private const int StandardErrorDescriptor = 2;
    private const int EINTR = 4;

    private readonly int _descriptor;
    private readonly nint _write;
    private readonly Lock _gate = new();

    /// <summary>Writes to <paramref name="descriptor"/>; tests pass a pipe's.</summary>
    internal StandardErrorLoggerFactory(int descriptor)
    {
        _descriptor = descriptor;
        _write = NativeLibrary.TryGetExport(NativeLibrary.GetMainProgramHandle(), "write", out nint write) ? write : 0;
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
        // A fixed destination: configure a real logger factory in ReactorOptions.LoggerFactory for anything else.
    }

    public void Dispose()
    {
        // Shared and stateless: nothing to release.
    }

    /// <summary>Writes one entry with a single call, so entries from different threads never interleave.</summary>
    internal void Write(string text)
    {
        if (_write == 0)
        {
            Console.Error.Write(text);
            return;
        }

        byte[] bytes = Encoding.UTF8.GetBytes(text);
        lock (_gate)
        {
            WriteAll(bytes);
        }
    }

    private unsafe void WriteAll(byte[] bytes)
    {
        var write = (delegate* unmanaged<int, byte*, nint, nint>)_write;
        fixed (byte* start = bytes)
        {
            int done = 0;
            int failures = 0;
            while (done < bytes.Length)
            {
                nint n = write(_descriptor, start + done, bytes.Length - done);
                if (n > 0)
                {
                    done += (int)n;
                    continue;
                }

                // Interrupted by a signal: try again, a few times. Anything else (a closed or non-blocking full
                // stderr): drop the rest rather than block or spin the thread that logs, often the reactor's.
                if (n < 0 && Marshal.GetLastSystemError() == EINTR && ++failures < 3)
                {
                    continue;
                }

                return;
            }
        }
    }

    private sealed class Logger(StandardErrorLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel is >= LogLevel.Warning and < LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            // The console logger's single-line shape: "fail: SelectReactor.Reactor[120] message", the exception below.
            string level = logLevel switch
            {
                LogLevel.Warning => "warn",
                LogLevel.Error => "fail",
                _ => "crit",
            };
            string line = $"{level}: {category}[{eventId.Id}] {formatter(state, exception)}\n";
            owner.Write(exception is null ? line : $"{line}{exception}\n");
        }
    }
}
