using System;
using System.Net;
using Microsoft.Extensions.Logging;
using SelectReactor;
using SelectReactor.Net;

namespace RedisServer;

/// <summary>
/// The server: one reactor thread (Redis is single-threaded too), one <see cref="RespConnection"/> per client, and
/// the active-expiry timer. Started by the program, and in-process by the tests.
/// </summary>
internal sealed class RedisApp : IDisposable
{
    private readonly ReactorGroup _group;
    private readonly IDisposable _expiryTimer;

    public RedisApp(EndPoint endPoint, int maxConnections = 10_000, ILoggerFactory? loggerFactory = null, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        _group = new ReactorGroup(1, new ReactorOptions { LoggerFactory = loggerFactory, Name = "redis", TimeProvider = time });
        Reactor reactor = _group.Reactors[0];
        State = new ServerState(reactor, time);
        try
        {
            var serverOptions = new TcpServerOptions { MaxConnections = maxConnections };
            Server = new TcpServer(reactor, endPoint, () => new RespConnection(State), serverOptions);
            Server.Start();
            State.Port = (Server.LocalEndPoint as IPEndPoint)?.Port ?? 0;
        }
        catch
        {
            _group.Dispose();
            throw;
        }

        // Active expiry, ten times a second as Redis's default hz: keys nobody touches again still go.
        _expiryTimer = reactor.SchedulePeriodic(TimeSpan.FromMilliseconds(100), () => State.Keyspace.RemoveExpired());
    }

    public TcpServer Server { get; }

    public ServerState State { get; }

    public Reactor Reactor => _group.Reactors[0];

    /// <summary>The one reactor, as a group: what the program waits on when it stops.</summary>
    public ReactorGroup Group => _group;

    public void Dispose()
    {
        _expiryTimer.Dispose();
        Server.Dispose();
        _group.Dispose();
    }
}
