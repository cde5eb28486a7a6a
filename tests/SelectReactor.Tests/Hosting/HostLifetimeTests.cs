using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SelectReactor.Hosting;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;
using SelectReactor.Tests.Net;

namespace SelectReactor.Tests.Hosting;

/// <summary>A whole host life, counted in descriptors: it must not share the process with other tests.</summary>
[Collection(SerialCollection.Name)]
public sealed class HostLifetimeTests
{
    [Fact]
    public async Task HostStop_AfterServingAConnection_ClosesItGracefullyEndsTheThreadRemovesTheListenerAndFreesEveryDescriptor()
    {
        // Warm-up: the runtime creates some descriptors lazily (its socket engine, signal handling) and keeps them.
        await ServeOneConnectionAndStop();
        int descriptorsBefore = LeakTests.OpenDescriptors();

        (ConnectionCloseReason reason, Thread reactorThread, EndPoint endPoint) = await ServeOneConnectionAndStop();

        reason.Should().Be(ConnectionCloseReason.LocalClose, "the host's stop closes the connection gracefully");
        reactorThread.Name.Should().Be("reactor");
        reactorThread.IsAlive.Should().BeFalse("the host's stop joins the reactor thread");
        TestHost.TryConnect(endPoint).Should().Be(SocketError.ConnectionRefused, "the listener is gone");
        WaitForDescriptorsAtMost(descriptorsBefore).Should().BeLessThanOrEqualTo(descriptorsBefore);
    }

    private static async Task<(ConnectionCloseReason Reason, Thread ReactorThread, EndPoint EndPoint)> ServeOneConnectionAndStop()
    {
        var probe = new ConnectionProbe();
        using IHost host = TestHost.Build(services => services
            .AddSingleton(probe)
            .AddTcpServer<ProbeEchoHandler>(new IPEndPoint(IPAddress.Loopback, 0)));
        await host.StartAsync().WaitAsync(Wait.Generous);
        EndPoint endPoint = host.Services.GetRequiredService<TcpServerRegistry>().GetServer<ProbeEchoHandler>().LocalEndPoint!;
        using Socket client = Loopback.Connect(endPoint, resetOnDispose: true);
        client.Send("ping"u8);
        SocketIo.ReceiveExactly(client, 4).Should().Equal("ping"u8.ToArray());

        Task stopping = host.StopAsync();
        byte[] rest = await Task.Run(() => SocketIo.ReceiveToEnd(client)).WaitAsync(Wait.Generous);
        client.Shutdown(SocketShutdown.Send); // our end of stream lets the server's graceful close finish
        await stopping.WaitAsync(Wait.Generous);

        rest.Should().BeEmpty("the server ends the stream with FIN, not a reset");
        Thread reactorThread = await probe.Connected.Task.WaitAsync(Wait.Generous);
        return (await probe.Closed.Task.WaitAsync(Wait.Generous), reactorThread, endPoint);
    }

    /// <summary>Descriptors close asynchronously in places (finalizers of earlier tests' objects): poll, bounded.</summary>
    private static int WaitForDescriptorsAtMost(int expected)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int now = LeakTests.OpenDescriptors();
        while (now > expected && clock.Elapsed < Wait.Generous)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Thread.Sleep(10);
            now = LeakTests.OpenDescriptors();
        }

        return now;
    }
}
