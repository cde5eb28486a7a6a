using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Net;

/// <summary>
/// Connections that close, or are asked to, while their reactor is being disposed: in its last tick, from the OnClosed
/// calls of its shutdown, still connecting. The library's own timers and notifications must not turn into handler
/// faults, and every connection ends exactly once with a reason that says what happened.
/// </summary>
public sealed class ClosingWhileDisposedTests
{
    [Fact]
    public void DefaultOnRemoteShutdown_InTheLastTick_ClosesWithoutAFault()
    {
        var log = new CapturingLoggerProvider();
        using var running = new RunningReactor(new ReactorOptions { LoggerFactory = log });
        var handler = new ByeThenDefaultClose(running.Reactor);
        var server = new TcpServer(running.Reactor, new IPEndPoint(IPAddress.Loopback, 0), () => handler);
        server.Start();
        using Socket client = Connect(server);

        client.Send("ping"u8);
        client.Shutdown(SocketShutdown.Send);

        // "bye" was still queued when Close armed the timer that waits for it to leave, in the reactor's last tick.
        ReceiveToEnd(client).Should().Be("pingbye");
        running.Join().Should().BeTrue();
        handler.Reasons.Should().Equal(ConnectionCloseReason.RemoteClose); // graceful: the peer had ended first
        ErrorsIn(log).Should().BeEmpty();
    }

    [Fact]
    public void Close_FromOnClosedDuringTheShutdown_EndsEachConnectionOnceWithReactorDisposed()
    {
        var log = new CapturingLoggerProvider();
        var running = new RunningReactor(new ReactorOptions { LoggerFactory = log });
        var connections = new ConcurrentQueue<TcpConnection>();
        var handler = new DelegateHandler
        {
            Connected = connections.Enqueue,
            Closed = (closed, _, _) =>
            {
                // A room closing its other members as one leaves: they are still open as far as they know.
                foreach (TcpConnection other in connections.Where(c => c != closed && !c.IsClosed))
                {
                    other.Close();
                }
            },
        };
        var server = new TcpServer(running.Reactor, new IPEndPoint(IPAddress.Loopback, 0), () => handler);
        server.Start();
        using Socket first = Connect(server);
        using Socket second = Connect(server);
        using Socket third = Connect(server);
        Wait.Until(() => connections.Count == 3, "three connections opened");

        running.Dispose();

        handler.Reasons.Should().Equal(Enumerable.Repeat(ConnectionCloseReason.ReactorDisposed, 3));
        ErrorsIn(log).Should().BeEmpty();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Accept_InTheLastTick_StartsItsTimersQuietly_AndEndsWithReactorDisposed(bool tls)
    {
        // The accepted connection arms its idle timer and, with TLS, its handshake timer, in the reactor's last tick.
        var log = new CapturingLoggerProvider();
        var running = new RunningReactor(new ReactorOptions { LoggerFactory = log });
        var handler = new DelegateHandler();
        var options = new TcpServerOptions { Connection = { IdleTimeout = TimeSpan.FromMinutes(1) } };
        if (tls)
        {
            options.Tls = TestCertificates.Server();
        }

        var server = new TcpServer(running.Reactor, new IPEndPoint(IPAddress.Loopback, 0), () => handler, options);
        server.Start();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        running.Reactor.Post(() =>
        {
            // Before this tick's select: the connection waits in the backlog, and the select finds it there.
            client.Connect(server.LocalEndPoint!);
            DisposeFromAnotherThread(running.Reactor);
        });

        running.Join().Should().BeTrue();
        handler.Reasons.Should().Equal(ConnectionCloseReason.ReactorDisposed);
        ErrorsIn(log).Should().BeEmpty();
    }

    [Fact]
    public void Connect_WhoseStartNeverRan_HearsReactorDisposed()
    {
        var reactor = new Reactor();
        var handler = new DelegateHandler();

        TcpConnection connection = TcpConnector.Connect(reactor, Loopback.UnusedEndPoint(), handler);
        reactor.Dispose();

        handler.Reasons.Should().Equal(ConnectionCloseReason.ReactorDisposed);
        connection.IsClosed.Should().BeTrue();
    }

    [Fact]
    public void Connect_ResolvingWhenTheReactorIsDisposed_HearsReactorDisposed()
    {
        var reactor = new Reactor();
        var closed = new TaskCompletionSource<ConnectionCloseReason>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler { Closed = (_, reason, _) => closed.TrySetResult(reason) };
        TcpConnector.Connect(reactor, new DnsEndPoint("localhost", Loopback.UnusedEndPoint().Port), handler);
        reactor.RunOnce(TimeSpan.Zero); // starts the name lookup on the thread pool

        reactor.Dispose();

        // Whether the lookup ends before or after the shutdown, the connection ends once, and says why.
        Wait.Result(closed.Task).Should().Be(ConnectionCloseReason.ReactorDisposed);
        Wait.Until(() => handler.Reasons.Count == 1, "the one OnClosed");
    }

    [Fact]
    public void PeersHalfClosing_WhileTheReactorIsDisposed_EveryConnectionEndsOnceAndNothingFaults()
    {
        // The probe that found the defect: echo connections whose peers send and half-close while another thread
        // disposes the reactor. Each round lands the disposal somewhere else among the closings.
        for (int round = 0; round < 12; round++)
        {
            var log = new CapturingLoggerProvider();
            var running = new RunningReactor(new ReactorOptions { LoggerFactory = log });
            var handler = new DelegateHandler();
            int opened = 0;
            handler.Connected = _ => Interlocked.Increment(ref opened);
            var server = new TcpServer(running.Reactor, new IPEndPoint(IPAddress.Loopback, 0), () => handler);
            server.Start();
            var clients = new List<Socket>();
            for (int i = 0; i < 16; i++)
            {
                clients.Add(Connect(server));
            }

            Wait.Until(() => Volatile.Read(ref opened) == clients.Count, "every client accepted");
            Task closing = Task.Run(() =>
            {
                foreach (Socket client in clients)
                {
                    try
                    {
                        client.Send(new byte[100]);
                        client.Shutdown(SocketShutdown.Send);
                    }
                    catch (SocketException)
                    {
                        // Expected once the disposal has reset this client's connection.
                    }
                }
            });
            Thread.Sleep(round % 4); // not synchronisation: spreads where the disposal lands among the half-closes

            running.Dispose();
            Wait.For(closing);

            handler.Reasons.Should().HaveCount(clients.Count, "every connection ends exactly once (round {0})", round);
            handler.Reasons.Should().OnlyContain(r => r == ConnectionCloseReason.RemoteClose || r == ConnectionCloseReason.ReactorDisposed);
            ErrorsIn(log).Should().BeEmpty("round {0}", round);
            clients.ForEach(c => c.Dispose());
        }
    }

    internal static void DisposeFromAnotherThread(Reactor reactor)
    {
        // Dispose waits for the loop to finish its tick, so it cannot run here; return once it has been asked for,
        // which other threads see as the reactor refusing their posts. The rest of this callback is the last tick.
        _ = Task.Run(reactor.Dispose);
        Wait.For(Task.Run(() => Wait.Until(reactor.RefusesWork, "Dispose was called")));
    }

    private static Socket Connect(TcpServer server) => Loopback.Connect(server.LocalEndPoint!);

    private static string ReceiveToEnd(Socket client) => System.Text.Encoding.ASCII.GetString(SocketIo.ReceiveToEnd(client));

    private static IEnumerable<string> ErrorsIn(CapturingLoggerProvider log) =>
        log.Entries.Where(e => e.Level >= LogLevel.Error).Select(e => $"{e.EventId}: {e.Message} {e.Exception?.GetType().Name}");

    /// <summary>Echoes, and at the peer's FIN says "bye", has the reactor disposed, and closes as the default does.</summary>
    private sealed class ByeThenDefaultClose(Reactor reactor) : ConnectionHandler
    {
        public ConcurrentQueue<ConnectionCloseReason> Reasons { get; } = new();

        public override void OnData(TcpConnection connection, ReadOnlySpan<byte> data) => connection.Send(data);

        public override void OnRemoteShutdown(TcpConnection connection)
        {
            connection.Send("bye"u8);
            DisposeFromAnotherThread(reactor);
            base.OnRemoteShutdown(connection);
        }

        public override void OnClosed(TcpConnection connection, ConnectionCloseReason reason, Exception? error) => Reasons.Enqueue(reason);
    }
}
