using System;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using RedisServer;
using SelectReactor.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SelectReactor.Tests.Redis;

/// <summary>
/// The Redis sample's hot path, measured on its reactor thread around a steady-state loop over real loopback
/// connections: GET and SET of existing keys allocate nothing, one request at a time or pipelined.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class RedisAllocationTests(ITestOutputHelper output)
{
    private const int Clients = 50;

    [Theory]
    [InlineData(1)]
    [InlineData(16)]
    public void GetAndSetOfExistingKeys_AllocateNothingPerRequest(int pipeline)
    {
        using var app = new RedisApp(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)app.Server.LocalEndPoint!).Port;
        Socket[] clients = Enumerable.Range(0, Clients).Select(_ => Loopback.Connect(port)).ToArray();

        // Each client owns one key; requests alternate SET (same length: the value is overwritten in place) and
        // GET, within a batch and from one round to the next (so one-at-a-time rounds do both too).
        byte[][][] batches = [Batches(Clients, pipeline, 0), Batches(Clients, pipeline, 1)];
        byte[][] replies = [new byte[ReplyLength(pipeline, 0)], new byte[ReplyLength(pipeline, 1)]];
        try
        {
            Rounds(clients, batches, replies, 300);
            long before = Allocated(app);
            const int Rounds_ = 1_000;
            Rounds(clients, batches, replies, Rounds_);
            long allocated = Allocated(app) - before;

            long requests = (long)Rounds_ * Clients * pipeline;
            double perRequest = (double)allocated / requests;
            output.WriteLine($"pipeline {pipeline}: {allocated} bytes over {requests} requests: {perRequest:F4} B/request");
            perRequest.Should().BeLessThan(1.0);
        }
        finally
        {
            foreach (Socket client in clients)
            {
                client.Dispose();
            }
        }
    }

    private static byte[][] Batches(int clients, int pipeline, int phase) => Enumerable.Range(0, clients)
        .Select(i => Enumerable.Range(phase, pipeline)
            .SelectMany(j => j % 2 == 0 ? RespSocket.Command("SET", $"key:{i:D6}", $"v{j % 10}x") : RespSocket.Command("GET", $"key:{i:D6}"))
            .ToArray())
        .ToArray();

    private static int ReplyLength(int pipeline, int phase) => Enumerable.Range(phase, pipeline).Sum(j => j % 2 == 0 ? 5 : 9); // "+OK\r\n", "$3\r\nv0x\r\n"

    private static void Rounds(Socket[] clients, byte[][][] batches, byte[][] replies, int rounds)
    {
        for (int round = 0; round < rounds; round++)
        {
            byte[] reply = replies[round % 2];
            for (int i = 0; i < clients.Length; i++)
            {
                clients[i].Send(batches[round % 2][i]);
            }

            foreach (Socket client in clients)
            {
                int got = 0;
                while (got < reply.Length)
                {
                    int n = client.Receive(reply, got, reply.Length - got, SocketFlags.None);
                    if (n == 0)
                    {
                        throw new InvalidOperationException("the server closed a connection");
                    }

                    got += n;
                }
            }
        }
    }

    private static long Allocated(RedisApp app)
    {
        var done = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Reactor.Post(() => done.SetResult(GC.GetAllocatedBytesForCurrentThread()));
        return Wait.Result(done.Task);
    }
}
