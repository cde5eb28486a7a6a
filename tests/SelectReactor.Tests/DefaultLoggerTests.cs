using System;
using System.IO;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading.Tasks;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests;

/// <summary>
/// With no logger factory configured, a fault still reaches the developer: warnings and errors go to standard error.
/// The test points this process's descriptor 2 at a pipe for its duration, so it runs alone.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class DefaultLoggerTests
{
    [Fact]
    public void ReactorWithoutLoggerFactory_HandlerFault_IsWrittenToStandardErrorAsOneLineWithTheException()
    {
        string written = CaptureStandardError(() =>
        {
            using var reactor = new Reactor();
            using SocketPair pair = Loopback.Pair();
            var closed = new TaskCompletionSource<CloseReason>(TaskCreationOptions.RunContinuationsAsynchronously);
            reactor.Register(pair.Server, Interest.Read, onReadable: _ => throw new InvalidOperationException("handler bug 42"), onClosed: (_, reason, _) => closed.SetResult(reason));
            pair.Client.Send("x"u8);
            while (!closed.Task.IsCompleted)
            {
                reactor.RunOnce(TimeSpan.FromMilliseconds(50));
            }

            closed.Task.Result.Should().Be(CloseReason.HandlerFault);
        });

        written.Should().StartWith("fail: SelectReactor.Reactor[120] Reactor reactor: handler ");
        written.Should().Contain("System.InvalidOperationException: handler bug 42");
    }

    [Fact]
    public void DefaultLogger_WritesWarningsAndAbove_AndNothingBelow()
    {
        var factory = StandardErrorLoggerFactory.Instance;
        var logger = factory.CreateLogger("Category");

        logger.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Information).Should().BeFalse("nothing on the hot path");
        logger.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Warning).Should().BeTrue();
        logger.IsEnabled(Microsoft.Extensions.Logging.LogLevel.None).Should().BeFalse();
    }

    /// <summary>Runs <paramref name="action"/> with descriptor 2 on a pipe; returns what was written to it.</summary>
    private static string CaptureStandardError(Action action)
    {
        int[] pipe = new int[2];
        Pipe(pipe).Should().Be(0);
        int saved = Dup(2);
        try
        {
            Dup2(pipe[1], 2).Should().Be(2);
            action();
        }
        finally
        {
            Dup2(saved, 2).Should().Be(2);
            Close(saved).Should().Be(0);
            Close(pipe[1]).Should().Be(0);
        }

        using var read = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(pipe[0], ownsHandle: true), FileAccess.Read);
        using var reader = new StreamReader(read, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    [DllImport("libc", EntryPoint = "pipe", SetLastError = true)]
    private static extern int Pipe(int[] fds);

    [DllImport("libc", EntryPoint = "dup", SetLastError = true)]
    private static extern int Dup(int fd);

    [DllImport("libc", EntryPoint = "dup2", SetLastError = true)]
    private static extern int Dup2(int fd, int fd2);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
