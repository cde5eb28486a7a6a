using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Net;

public sealed class ReactorGroupTests
{
    [Fact]
    public void EveryReactor_RunsWithEverySettingOfTheGroupsOptions()
    {
        // Was: the group copied settings one by one and dropped MaxColdSocketDelay.
        using var group = new ReactorGroup(2, new ReactorOptions { MaxColdSocketDelay = TimeSpan.Zero, Name = "g" });

        group.Reactors.Select(r => r.TieringEnabled).Should().Equal([false, false], "MaxColdSocketDelay zero turns tiering off in each");
        group.Reactors.Select(r => r.Name).Should().Equal("g-0", "g-1");
    }

    [Fact]
    public void OptionsCopy_CarriesEveryPublicSetting_ButTheName()
    {
        var options = new ReactorOptions
        {
            LoggerFactory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance,
            TimeProvider = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(),
            MaxSelectTimeout = TimeSpan.FromMilliseconds(123),
            MaxColdSocketDelay = TimeSpan.FromMilliseconds(7),
            Name = "original",
        };

        ReactorOptions copy = options.CopyNamed("copy");

        copy.Name.Should().Be("copy");
        foreach (System.Reflection.PropertyInfo property in typeof(ReactorOptions).GetProperties().Where(p => p.CanWrite && p.Name != nameof(ReactorOptions.Name)))
        {
            property.GetValue(copy).Should().Be(property.GetValue(options), property.Name);
            property.GetValue(options).Should().NotBe(property.GetValue(new ReactorOptions()), $"the test sets {property.Name} to something other than its default");
        }
    }

    [Fact]
    public void Group_DefaultCount_IsOneReactorPerCoreEachOnItsOwnThread()
    {
        using var group = new ReactorGroup();

        group.Count.Should().Be(Environment.ProcessorCount);
        var threads = group.Reactors.Select(r =>
        {
            var thread = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            r.Post(() => thread.SetResult(Environment.CurrentManagedThreadId));
            return Wait.Result(thread.Task);
        }).ToArray();
        threads.Distinct().Should().HaveCount(group.Count);
        group.Reactors.Select(r => r.Name).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public void Group_NextIsRoundRobinAndLeastLoadedFollowsRegistrations()
    {
        using var group = new ReactorGroup(3);
        using SocketPair pair = Loopback.Pair();

        Enumerable.Range(0, 6).Select(_ => group.Next()).Should().Equal(
            group.Reactors[0], group.Reactors[1], group.Reactors[2], group.Reactors[0], group.Reactors[1], group.Reactors[2]);
        group.Reactors[0].Register(pair.Server, new RecordingHandler(), Interest.None);
        group.LeastLoaded().Should().BeSameAs(group.Reactors[1]);
    }

    [Fact]
    public void Group_Dispose_ClosesEveryRegistrationAndIsIdempotent()
    {
        var group = new ReactorGroup(2);
        using SocketPair a = Loopback.Pair();
        using SocketPair b = Loopback.Pair();
        var first = new RecordingHandler();
        var second = new RecordingHandler();
        group.Reactors[0].Register(a.Server, first, Interest.Read);
        group.Reactors[1].Register(b.Server, second, Interest.Read);

        group.Dispose();
        group.Dispose();

        first.Snapshot().Should().Equal("closed:ReactorDisposed");
        second.Snapshot().Should().Equal("closed:ReactorDisposed");
    }

    [Fact]
    public void Group_InvalidCount_IsRejected()
    {
        FluentActions.Invoking(() => new ReactorGroup(-1)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void TcpServerOnAGroup_SpreadsConnectionsAndEachHandlerRunsOnOneThreadOnly()
    {
        const int Clients = 40;
        using var group = new ReactorGroup(4);
        var threadsByConnection = new ConcurrentDictionary<TcpConnection, ConcurrentBag<int>>();
        var closed = new ConcurrentQueue<ConnectionCloseReason>();
        var handler = new DelegateHandler
        {
            Connected = c => threadsByConnection.GetOrAdd(c, _ => new()).Add(Environment.CurrentManagedThreadId),
            Data = (c, data) =>
            {
                threadsByConnection.GetOrAdd(c, _ => new()).Add(Environment.CurrentManagedThreadId);
                c.Send(data);
            },
            Closed = (c, reason, _) =>
            {
                threadsByConnection.GetOrAdd(c, _ => new()).Add(Environment.CurrentManagedThreadId);
                closed.Enqueue(reason);
            },
        };
        using var server = new TcpServer(group, new IPEndPoint(IPAddress.Loopback, 0), () => handler);
        server.Start();

        var clients = Enumerable.Range(0, Clients).Select(_ =>
        {
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 15_000 };
            client.Connect(server.LocalEndPoint!);
            return client;
        }).ToArray();
        Parallel.ForEach(clients, (client, _, i) =>
        {
            byte[] message = BitConverter.GetBytes((int)i);
            for (int round = 0; round < 20; round++)
            {
                client.Send(message);
                SocketIo.ReceiveExactly(client, message.Length).Should().Equal(message);
            }
        });
        var perReactor = group.Reactors.Select(r => r.RegistrationCount).ToArray();
        server.Stop();
        foreach (Socket client in clients)
        {
            SocketIo.ReceiveToEnd(client).Should().BeEmpty();
            client.Shutdown(SocketShutdown.Send);
            client.Dispose();
        }

        Wait.For(server.Completion);
        closed.Should().HaveCount(Clients).And.OnlyContain(r => r == ConnectionCloseReason.LocalClose);
        threadsByConnection.Should().HaveCount(Clients);
        threadsByConnection.Values.Should().OnlyContain(threads => threads.Distinct().Count() == 1, "a connection stays on one reactor for life");
        threadsByConnection.Values.Select(t => t.First()).Distinct().Should().HaveCount(4, "least-loaded placement uses every reactor");
        perReactor.Sum().Should().Be(Clients + 1, "every connection plus the listener");
        perReactor.Max().Should().BeLessThanOrEqualTo(Clients / 4 + 2, "placement is balanced");
        server.ConnectionCount.Should().Be(0);
    }

    [Fact]
    public void TcpServerOnAGroup_ReactorDisposedWithSocketsHandedToIt_TheyAreClosedAndUncounted()
    {
        using var group = new ReactorGroup(2);
        Reactor second = group.Reactors[1];
        using var release = new System.Threading.ManualResetEventSlim();
        var blocking = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        second.Post(() =>
        {
            blocking.SetResult();
            release.Wait(Wait.Generous); // holds the second reactor inside a tick while sockets queue up for it
        });
        Wait.For(blocking.Task);
        var handler = new DelegateHandler();
        using var server = new TcpServer(group, new IPEndPoint(IPAddress.Loopback, 0), () => handler);
        server.Start();
        var clients = Enumerable.Range(0, 6).Select(_ =>
        {
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 15_000 };
            client.Connect(server.LocalEndPoint!);
            return client;
        }).ToArray();
        Wait.Until(() => server.AcceptedCount == 6, "every connection was accepted");

        var disposing = Task.Run(second.Dispose);
        Wait.Until(() => second.RefusesWork(), "the second reactor is marked disposed");
        release.Set();
        Wait.For(disposing);

        Wait.Until(() => server.ConnectionCount == 3, "the sockets handed to the disposed reactor no longer count");
        // Least-loaded placement alternates, so 3 of the 6 went to the disposed reactor. Those must see their
        // connection end (readable: end of stream or reset); the other 3 stay open and idle (not readable).
        Wait.Until(() => clients.Count(c => c.Poll(0, SelectMode.SelectRead)) == 3, "the handed-over sockets were closed");
        int closedByServer = clients.Count(c => c.Poll(0, SelectMode.SelectRead));
        closedByServer.Should().Be(3, "each socket the disposed reactor never started was closed, not leaked");
        foreach (Socket client in clients)
        {
            client.Dispose();
        }
    }

    [Fact]
    public void TcpServerOnAGroup_GroupDisposedUnderLoad_EveryConnectionClosesOnce()
    {
        var group = new ReactorGroup(2);
        var closes = new ConcurrentQueue<ConnectionCloseReason>();
        int connected = 0;
        var handler = new DelegateHandler
        {
            Connected = _ => System.Threading.Interlocked.Increment(ref connected),
            Closed = (_, reason, _) => closes.Enqueue(reason),
        };
        var server = new TcpServer(group, new IPEndPoint(IPAddress.Loopback, 0), () => handler);
        server.Start();
        var clients = Enumerable.Range(0, 10).Select(_ =>
        {
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            client.Connect(server.LocalEndPoint!);
            return client;
        }).ToArray();
        Wait.Until(() => System.Threading.Volatile.Read(ref connected) == 10, "every connection started on its reactor");

        group.Dispose();

        closes.Should().HaveCount(10).And.OnlyContain(r => r == ConnectionCloseReason.ReactorDisposed);
        Wait.For(server.Completion);
        foreach (Socket client in clients)
        {
            client.Dispose();
        }
    }
}
