using System;
using System.Collections.Generic;
using System.Net.Sockets;
using System.Text;

namespace SelectReactor.Tests.Infrastructure;

/// <summary>
/// N loopback connections whose server sides are registered with a reactor and echo whatever arrives. The client
/// sides stay blocking, for the test thread to drive.
/// </summary>
internal sealed class EchoFleet : IDisposable
{
    private readonly List<SocketPair> _pairs = new();

    public EchoFleet(Reactor reactor, int count)
    {
        for (int i = 0; i < count; i++)
        {
            SocketPair pair = Loopback.Pair();
            pair.Client.ReceiveTimeout = (int)Wait.Generous.TotalMilliseconds;
            var handler = new RecordingHandler { Readable = Echo };
            Handlers.Add(handler);
            Registrations.Add(reactor.Register(pair.Server, handler, Interest.Read));
            _pairs.Add(pair);
        }
    }

    public List<RecordingHandler> Handlers { get; } = new();

    public List<Registration> Registrations { get; } = new();

    public IReadOnlyList<SocketPair> Pairs => _pairs;

    /// <summary>Sends a distinct message on every connection and checks that each comes back intact.</summary>
    public void AssertAllEcho(string tag)
    {
        for (int i = 0; i < _pairs.Count; i++)
        {
            byte[] message = Encoding.ASCII.GetBytes($"{tag}-{i}");
            _pairs[i].Client.Send(message);
        }

        for (int i = 0; i < _pairs.Count; i++)
        {
            byte[] expected = Encoding.ASCII.GetBytes($"{tag}-{i}");
            byte[] received = new byte[expected.Length];
            int got = 0;
            while (got < expected.Length)
            {
                int n = _pairs[i].Client.Receive(received, got, expected.Length - got, SocketFlags.None);
                if (n == 0)
                {
                    throw new InvalidOperationException($"connection {i} closed before echoing");
                }

                got += n;
            }

            if (!received.AsSpan().SequenceEqual(expected))
            {
                throw new InvalidOperationException($"connection {i} echoed '{Encoding.ASCII.GetString(received)}'");
            }
        }
    }

    public void Dispose()
    {
        foreach (SocketPair pair in _pairs)
        {
            pair.Dispose();
        }
    }

    private static void Echo(Registration registration)
    {
        Span<byte> buffer = stackalloc byte[4096];
        while (true)
        {
            int n = registration.Socket.Receive(buffer, SocketFlags.None, out SocketError error);
            if (n == 0 && error == SocketError.Success)
            {
                // End of stream: stop watching, or the socket would stay readable and spin the loop.
                registration.Interest = Interest.None;
                return;
            }

            if (error != SocketError.Success)
            {
                return;
            }

            registration.Socket.Send(buffer[..n]);
        }
    }
}
