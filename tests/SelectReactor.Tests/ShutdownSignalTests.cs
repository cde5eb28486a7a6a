using System;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests;

/// <summary>
/// The graceful stop for programs without a host, driven by <see cref="ShutdownSignal.Request"/> (the process tests of
/// the samples send the real signals).
/// </summary>
public sealed class ShutdownSignalTests
{
    [Fact]
    public void Run_Request_StopsTheServerOnTheReactorThread_ClientsGetFinAndRunReturnsTrueOnceTheyClose()
    {
        using var shutdown = new ShutdownSignal(TimeSpan.FromMinutes(1));
        using var reactor = new Reactor();
        using var server = new TcpServer(reactor, new IPEndPoint(IPAddress.Loopback, 0), () => new TestEchoHandler());
        server.Start();
        bool stoppingOnReactor = false;
        Task<bool> run = RunOnThread(() => shutdown.Run(reactor, () =>
        {
            stoppingOnReactor = reactor.IsOnReactorThread;
            server.Stop();
        }));
        using Socket client = Connect(server);
        client.Send("ping"u8);
        SocketIo.ReceiveExactly(client, 4).Should().Equal("ping"u8.ToArray());

        shutdown.Request();

        SocketIo.ReceiveToEnd(client).Should().BeEmpty("the server ends the stream with FIN");
        run.IsCompleted.Should().BeFalse("the loop keeps running until the client has closed too");
        client.Shutdown(SocketShutdown.Send);
        Wait.Result(run).Should().BeTrue();
        stoppingOnReactor.Should().BeTrue();
        server.Completion.IsCompleted.Should().BeTrue();
        shutdown.Token.IsCancellationRequested.Should().BeTrue();
    }

    [Fact]
    public void Run_ClientThatNeverCloses_IsCutAtTheTimeout_RunReturnsFalse()
    {
        using var shutdown = new ShutdownSignal(TimeSpan.FromMilliseconds(300));
        using var reactor = new Reactor();
        using var server = new TcpServer(reactor, new IPEndPoint(IPAddress.Loopback, 0), () => new TestEchoHandler());
        server.Start();
        Task<bool> run = RunOnThread(() => shutdown.Run(reactor, server.Stop));
        using Socket client = Connect(server);
        client.Send("x"u8);
        SocketIo.ReceiveExactly(client, 1);
        var clock = Stopwatch.StartNew();

        shutdown.Request();

        Wait.Result(run).Should().BeFalse("the client never ended its stream");
        clock.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(250));
        server.ConnectionCount.Should().Be(1, "disposing the reactor, next, resets it");
    }

    [Fact]
    public void Request_BeforeRun_TheStopHappensAsSoonAsRunStarts()
    {
        using var shutdown = new ShutdownSignal();
        using var reactor = new Reactor();
        using var server = new TcpServer(reactor, new IPEndPoint(IPAddress.Loopback, 0), () => new TestEchoHandler());
        server.Start();

        shutdown.Request();
        Task<bool> run = RunOnThread(() => shutdown.Run(reactor, server.Stop));

        Wait.Result(run).Should().BeTrue();
        server.Completion.IsCompleted.Should().BeTrue();
        reactor.RegistrationCount.Should().Be(0);
    }

    [Fact]
    public void SecondRequest_CutsTheStopShort()
    {
        using var shutdown = new ShutdownSignal(TimeSpan.FromMinutes(10));
        using var reactor = new Reactor();
        using var server = new TcpServer(reactor, new IPEndPoint(IPAddress.Loopback, 0), () => new TestEchoHandler());
        server.Start();
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<bool> run = RunOnThread(() => shutdown.Run(reactor, () => { server.Stop(); stopping.SetResult(); }));
        using Socket client = Connect(server);
        client.Send("x"u8);
        SocketIo.ReceiveExactly(client, 1);
        shutdown.Request();
        Wait.For(stopping.Task);

        shutdown.Request();

        Wait.Result(run).Should().BeFalse("the second request gives up on the client that never closes");
    }

    [Fact]
    public void Run_StoppingCallbackThrows_TheFaultIsLoggedAndTheStopGoesOn()
    {
        var logs = new CapturingLoggerProvider();
        using var shutdown = new ShutdownSignal(TimeSpan.FromMinutes(1));
        using var reactor = new Reactor(new ReactorOptions { LoggerFactory = logs });
        using var server = new TcpServer(reactor, new IPEndPoint(IPAddress.Loopback, 0), () => new TestEchoHandler());
        server.Start();
        Task<bool> run = RunOnThread(() => shutdown.Run(reactor, () =>
        {
            server.Stop();
            throw new InvalidOperationException("stop failed halfway");
        }));

        shutdown.Request();

        Wait.Result(run).Should().BeTrue("what the callback did stop still closes, and then the loop ends");
        logs.Entries.Should().Contain(e => e.Exception is InvalidOperationException && e.Exception.Message == "stop failed halfway");
    }

    [Fact]
    public void Wait_OnAGroup_StopsOnTheCallingThreadAndReturnsOnceEveryReactorIsEmpty()
    {
        using var shutdown = new ShutdownSignal(TimeSpan.FromMinutes(1));
        using var group = new ReactorGroup(2);
        using var server = new TcpServer(group, new IPEndPoint(IPAddress.Loopback, 0), () => new TestEchoHandler());
        server.Start();
        Task<bool> wait = RunOnThread(() => shutdown.Wait(group, server.Stop));
        using Socket first = Connect(server);
        using Socket second = Connect(server);
        foreach (Socket client in new[] { first, second })
        {
            client.Send("y"u8);
            SocketIo.ReceiveExactly(client, 1);
        }

        shutdown.Request();

        foreach (Socket client in new[] { first, second })
        {
            SocketIo.ReceiveToEnd(client).Should().BeEmpty();
            client.Shutdown(SocketShutdown.Send);
        }

        Wait.Result(wait).Should().BeTrue();
        server.Completion.IsCompleted.Should().BeTrue();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void Constructor_TimeoutNotPositive_ThrowsWithTheValue(int milliseconds)
    {
        Action create = () => new ShutdownSignal(TimeSpan.FromMilliseconds(milliseconds)).Dispose();

        create.Should().Throw<ArgumentOutOfRangeException>().WithMessage($"*{TimeSpan.FromMilliseconds(milliseconds)}*");
    }

    private static Task<bool> RunOnThread(Func<bool> body)
    {
        var result = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                result.SetResult(body());
            }
            catch (Exception e)
            {
                result.SetException(e);
            }
        })
        { IsBackground = true };
        thread.Start();
        return result.Task;
    }

    private static Socket Connect(TcpServer server) => Loopback.Connect(server.LocalEndPoint!);
}
