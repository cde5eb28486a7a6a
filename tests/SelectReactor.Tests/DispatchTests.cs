using System;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests;

public sealed class DispatchTests
{
    [Fact]
    public void Readable_DataFromPeer_DeliversOnReadableWithTheBytes()
    {
        using var reactor = new Reactor();
        using SocketPair pair = Loopback.Pair();
        var received = new TaskCompletionSource<string>();
        var handler = new RecordingHandler
        {
            Readable = r =>
            {
                byte[] buffer = new byte[64];
                int n = r.Socket.Receive(buffer);
                received.TrySetResult(Encoding.ASCII.GetString(buffer, 0, n));
            },
        };
        reactor.Register(pair.Server, handler, Interest.Read);

        pair.Client.Send("hello"u8.ToArray());
        RunUntil(reactor, () => received.Task.IsCompleted);

        received.Task.Result.Should().Be("hello");
        handler.WritableCount.Should().Be(0, "write interest was never asked for");
    }

    [Fact]
    public void Writable_ConnectedSocket_DeliversOnWritable()
    {
        using var reactor = new Reactor();
        using SocketPair pair = Loopback.Pair();
        var handler = new RecordingHandler();
        reactor.Register(pair.Server, handler, Interest.Write);

        reactor.RunOnce(Wait.Generous).Should().Be(1);

        handler.Snapshot().Should().Equal("writable");
    }

    [Fact]
    public void Error_RefusedNonBlockingConnect_DeliversReadableWritableAndErrorWithTheSocketError()
    {
        using var reactor = new Reactor();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
        SocketError pending = SocketError.Success;
        var handler = new RecordingHandler
        {
            Error = r =>
            {
                pending = (SocketError)(int)r.Socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
                r.Dispose();
            },
        };
        try
        {
            socket.Connect(Loopback.UnusedEndPoint());
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock || e.SocketErrorCode == SocketError.InProgress)
        {
            // Expected: the connect proceeds in the background.
        }

        reactor.Register(socket, handler, Interest.Read | Interest.Write | Interest.Error);
        RunUntil(reactor, () => handler.ClosedCount == 1);

        handler.Snapshot().Should().Equal("readable", "writable", "error", "closed:Unregistered");
        pending.Should().Be(SocketError.ConnectionRefused);
    }

    [Fact]
    public void Interest_None_DeliversNothingWhileTheSocketStaysRegistered()
    {
        using var reactor = new Reactor();
        using SocketPair pair = Loopback.Pair();
        var handler = new RecordingHandler();
        Registration registration = reactor.Register(pair.Server, handler, Interest.None);
        pair.Client.Send(new byte[1]);

        reactor.RunOnce(TimeSpan.FromMilliseconds(20));

        handler.Snapshot().Should().BeEmpty();
        registration.IsActive.Should().BeTrue();
        reactor.RegistrationCount.Should().Be(1);
    }

    [Fact]
    public void Interest_ChangedInsideCallback_TakesEffectBeforeTheNextSelect()
    {
        using var reactor = new Reactor();
        using SocketPair pair = Loopback.Pair();
        var handler = new RecordingHandler { Writable = r => r.Interest = Interest.Read };
        reactor.Register(pair.Server, handler, Interest.Write);

        reactor.RunOnce(Wait.Generous);
        reactor.RunOnce(TimeSpan.Zero);
        reactor.RunOnce(TimeSpan.Zero);

        handler.WritableCount.Should().Be(1, "write interest was turned off in the first callback");
        pair.Client.Send(new byte[1]);
        RunUntil(reactor, () => handler.ReadableCount > 0);
    }

    [Fact]
    public void Interest_ChangedFromAnotherThread_WakesALongSelectAndApplies()
    {
        using var running = new RunningReactor(new ReactorOptions { MaxSelectTimeout = TimeSpan.FromSeconds(30) });
        using SocketPair pair = Loopback.Pair();
        var writable = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new RecordingHandler { Writable = r => { r.Interest = Interest.None; writable.TrySetResult(); } };
        Registration registration = running.Reactor.Register(pair.Server, handler, Interest.None);
        running.Invoke(() => 0); // the registration is applied and the loop is back in a 30 s select

        registration.Interest = Interest.Write;

        Wait.For(writable.Task);
        registration.Interest.Should().Be(Interest.None);
        handler.CallbackThreads.Should().OnlyContain(id => id == running.ThreadId);
    }

    [Fact]
    public void Interest_UnknownBits_AreRejected()
    {
        using var reactor = new Reactor();
        using SocketPair pair = Loopback.Pair();
        Registration registration = reactor.Register(pair.Server, new RecordingHandler(), Interest.Read);

        Action act = () => registration.Interest = (Interest)8;

        act.Should().Throw<ArgumentOutOfRangeException>();
        registration.Interest.Should().Be(Interest.Read);
    }

    [Fact]
    public void Dispatch_ReadableThenWritableThenError_InThatOrderAcrossSockets()
    {
        using var reactor = new Reactor();
        using SocketPair a = Loopback.Pair();
        using SocketPair b = Loopback.Pair();
        var order = new System.Collections.Generic.List<string>();
        IEventHandler Handler(string name) => new RecordingHandler
        {
            Readable = r => { order.Add(name + ":r"); r.Socket.Receive(new byte[16]); },
            Writable = r => order.Add(name + ":w"),
        };
        reactor.Register(a.Server, Handler("a"), Interest.Read | Interest.Write);
        reactor.Register(b.Server, Handler("b"), Interest.Read | Interest.Write);
        a.Client.Send(new byte[1]);
        b.Client.Send(new byte[1]);
        Wait.Until(() => a.Server.Available > 0 && b.Server.Available > 0, "both bytes arrived");

        reactor.RunOnce(Wait.Generous).Should().Be(4);

        order.Should().Equal("a:r", "b:r", "a:w", "b:w");
    }

    [Fact]
    public void Dispatch_ManySocketsReady_EachHandlerGetsItsOwnSocket()
    {
        using var reactor = new Reactor();
        var pairs = new SocketPair[120];
        var seen = new Socket?[pairs.Length];
        for (int i = 0; i < pairs.Length; i++)
        {
            int index = i;
            pairs[i] = Loopback.Pair();
            reactor.Register(pairs[i].Server, Interest.Read, onReadable: r => { seen[index] = r.Socket; r.Socket.Receive(new byte[8]); });
        }

        try
        {
            for (int i = 0; i < pairs.Length; i += 3)
            {
                pairs[i].Client.Send(new byte[1]);
            }

            Wait.Until(() => pairs[^3].Server.Available > 0, "the last byte arrived");
            RunUntil(reactor, () => seen[^3] is not null);

            for (int i = 0; i < pairs.Length; i++)
            {
                seen[i].Should().BeSameAs(i % 3 == 0 ? pairs[i].Server : null, $"connection {i}");
            }
        }
        finally
        {
            foreach (SocketPair pair in pairs)
            {
                pair.Dispose();
            }
        }
    }

    internal static void RunUntil(Reactor reactor, Func<bool> condition)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Wait.Generous)
            {
                throw new TimeoutException("The reactor never reached the expected state.");
            }

            reactor.RunOnce(TimeSpan.FromMilliseconds(50));
        }
    }
}
