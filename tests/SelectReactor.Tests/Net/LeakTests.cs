using System;
using System.IO;
using System.Net.Sockets;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Net;

[Collection(SerialCollection.Name)]
public sealed class LeakTests
{
    [Fact]
    public void ConnectEchoClose_5000Cycles_LeaksNoDescriptorRegistrationOrBuffer()
    {
        var handler = new TestEchoHandler();
        using var harness = new ServerHarness(() => handler);
        Cycle(harness, 0); // warm-up: lazily created runtime descriptors are not leaks
        Wait.Until(() => harness.Server.ConnectionCount == 0, "the warm-up connection closed");
        int descriptorsBefore = OpenDescriptors();
        BufferPool.IsCounting.Should().BeTrue("the test project turns buffer counting on, or this test proves nothing");
        long buffersBefore = BufferPool.Outstanding;

        for (int i = 1; i <= 5_000; i++)
        {
            Cycle(harness, i);
        }

        Wait.Until(() => handler.Closes.Count == 5_001, "every connection closed");
        Wait.Until(() => harness.Server.ConnectionCount == 0, "the server forgot every connection");
        harness.Reactor.RegistrationCount.Should().Be(1, "only the listener is left");
        OpenDescriptors().Should().BeLessThanOrEqualTo(descriptorsBefore + 2, "a descriptor per cycle would be 5,000");
        BufferPool.Outstanding.Should().Be(buffersBefore);
        handler.Closes.Should().OnlyContain(c => c.RentedBuffers == 0);
    }

    private static void Cycle(ServerHarness harness, int i)
    {
        using Socket client = harness.Connect();
        byte[] message = BitConverter.GetBytes(i);
        client.Send(message);
        SocketIo.ReceiveExactly(client, message.Length).Should().Equal(message);
        client.Shutdown(SocketShutdown.Send);
        SocketIo.ReceiveToEnd(client).Should().BeEmpty();
    }

    internal static int OpenDescriptors() => Directory.GetFiles("/proc/self/fd").Length;
}
