using System;
using System.Linq;
using Microsoft.Extensions.Logging;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests;

/// <summary>The reactor's log lines name what they are about, even when the socket has died by the time they are written.</summary>
public sealed class LogLineTests
{
    [Fact]
    public void RegistrationClosed_SocketDisposedBeforeTheLine_StillNamesItsEndPointsAndHandler()
    {
        var log = new CapturingLoggerProvider();
        using var reactor = new Reactor(new ReactorOptions { LoggerFactory = log, Name = "r1" });
        using SocketPair pair = Loopback.Pair();
        string local = pair.Server.LocalEndPoint!.ToString()!;
        string remote = pair.Server.RemoteEndPoint!.ToString()!;
        Registration registration = reactor.Register(pair.Server, new RecordingHandler(), Interest.Read);
        reactor.RunOnce(TimeSpan.Zero);

        registration.Dispose(); // no loop runs: the unregistration waits in the queue...
        pair.Server.Dispose();  // ...while its owner closes the socket, as connections do
        reactor.RunOnce(TimeSpan.Zero);

        LogEntry closed = log.Entries.Single(e => e.EventId == 131);
        closed.Level.Should().Be(LogLevel.Debug);
        closed.Message.Should().Contain("r1").And.Contain("RecordingHandler").And.Contain($"{local} -> {remote}").And.Contain("Unregistered");
        closed.Message.Should().NotContain("disposed -> disposed");
    }

    [Fact]
    public void DeadSocketEvicted_NamesTheEndPointsReadWhileTheSocketLived()
    {
        var log = new CapturingLoggerProvider();
        using var reactor = new Reactor(new ReactorOptions { LoggerFactory = log });
        using SocketPair pair = Loopback.Pair();
        string remote = pair.Server.RemoteEndPoint!.ToString()!;
        reactor.Register(pair.Server, new RecordingHandler(), Interest.Read);
        reactor.RunOnce(TimeSpan.Zero);

        pair.Server.Dispose();
        reactor.RunOnce(TimeSpan.Zero);

        LogEntry evicted = log.Entries.Single(e => e.EventId == 110);
        evicted.Level.Should().Be(LogLevel.Warning);
        evicted.Message.Should().Contain(remote).And.Contain("RecordingHandler").And.Contain("Read");
    }
}
