using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Text;
using System.Threading.Tasks;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Net;

/// <summary>
/// The seam between transport and handler, proven with a test-only layer that has what TLS has: a handshake before
/// OnConnected, records that transform the bytes both ways, an end-of-stream marker before FIN, and decoded input it
/// holds back and must deliver without the socket signalling again.
/// </summary>
public sealed class ConnectionLayerTests
{
    [Fact]
    public void Layer_HandshakeBeforeOnConnected_BytesTransformedBothWays_EndMarkerBeforeFin()
    {
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var closed = new TaskCompletionSource<ConnectionCloseReason>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler
        {
            Connected = c =>
            {
                connected.TrySetResult();
                c.Send("welcome|"u8);
            },
            Data = (c, data) => c.Send(data),
            Closed = (_, reason, _) => closed.TrySetResult(reason),
        };
        using var harness = LayeredServer(handler);
        using Socket client = harness.Connect();
        var peer = new XorPeer(client);

        peer.ReadServerHello();
        bool connectedBeforeHandshake = connected.Task.IsCompleted;
        peer.SendClientHello(andThen: "hello");
        string first = peer.ReadRecords("welcome|hello".Length);
        peer.SendEndMarker();
        bool endMarker = peer.ReadEndMarker();
        int afterMarker = client.Receive(new byte[16]);
        client.Shutdown(SocketShutdown.Send);

        connectedBeforeHandshake.Should().BeFalse("OnConnected waits for the layer's handshake");
        first.Should().Be("welcome|hello", "output queued in OnConnected and the echo, both encoded; input decoded");
        endMarker.Should().BeTrue("the layer's closing bytes come before FIN");
        afterMarker.Should().Be(0, "then FIN");
        Wait.Result(closed.Task).Should().Be(ConnectionCloseReason.RemoteClose, "the peer's end marker is the end of stream");
    }

    [Fact]
    public void Layer_InputItHoldsBack_IsDeliveredAfterResumeReading_WithNoNewSocketData()
    {
        var received = new List<byte>();
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int deliveries = 0;
        var handler = new DelegateHandler
        {
            Data = (c, data) =>
            {
                deliveries++;
                received.AddRange(data.ToArray());
                if (received.Count == 40)
                {
                    all.TrySetResult();
                    return;
                }

                // Pause after every piece; a timer resumes, when the socket has nothing more to say.
                c.PauseReading();
                c.Reactor.Schedule(TimeSpan.FromMilliseconds(5), c.ResumeReading);
            },
        };
        using var harness = LayeredServer(handler);
        using Socket client = harness.Connect();
        var peer = new XorPeer(client);
        peer.ReadServerHello();
        string message = new string('m', 40);

        peer.SendClientHello(andThen: message); // the whole message arrives with the handshake, in one segment
        Wait.For(all.Task);

        Encoding.ASCII.GetString(received.ToArray()).Should().Be(message);
        deliveries.Should().Be(10, "the layer hands over 4 bytes at a time and the handler paused after each");
    }

    [Fact]
    public void Layer_Shutdown_EndMarkerAndFinOutButInputStillDelivered()
    {
        var data = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var closed = new TaskCompletionSource<ConnectionCloseReason>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler
        {
            Connected = c =>
            {
                c.Send("bye"u8);
                c.Shutdown();
            },
            Data = (_, bytes) => data.TrySetResult(Encoding.ASCII.GetString(bytes)),
            RemoteShutdown = _ => { },
            Closed = (_, reason, _) => closed.TrySetResult(reason),
        };
        using var harness = LayeredServer(handler);
        using Socket client = harness.Connect();
        var peer = new XorPeer(client);
        peer.ReadServerHello();

        peer.SendClientHello(andThen: null);
        string last = peer.ReadRecords(3);
        bool endMarker = peer.ReadEndMarker();
        int fin = client.Receive(new byte[16]);
        peer.SendRecord("late");
        string late = Wait.Result(data.Task);
        peer.SendEndMarker();
        client.Shutdown(SocketShutdown.Send);

        last.Should().Be("bye");
        endMarker.Should().BeTrue();
        fin.Should().Be(0);
        late.Should().Be("late", "a half-closed connection still delivers input");
        Wait.Result(closed.Task).Should().Be(ConnectionCloseReason.LocalClose);
    }

    [Fact]
    public void Layer_StreamEndsWithoutItsEndMarker_TheLayerFailsTheConnection()
    {
        var closed = new TaskCompletionSource<(ConnectionCloseReason, Exception?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler { Closed = (_, reason, error) => closed.TrySetResult((reason, error)) };
        using var harness = LayeredServer(handler);
        using Socket client = harness.Connect();
        var peer = new XorPeer(client);
        peer.ReadServerHello();

        peer.SendClientHello(andThen: "cut");
        client.Shutdown(SocketShutdown.Send);

        (ConnectionCloseReason reason, Exception? error) = Wait.Result(closed.Task);
        reason.Should().Be(ConnectionCloseReason.ConnectionReset);
        error.Should().BeOfType<IOException>().Which.Message.Should().Contain("truncated");
    }

    [Fact]
    public void Layer_BytesItHoldsAndTheTransportHolds_CountAsPendingOutput()
    {
        var pending = new TaskCompletionSource<(long DuringCallback, long LayerHeld)>(TaskCreationOptions.RunContinuationsAsynchronously);
        XorLayer? layer = null;
        var handler = new DelegateHandler
        {
            Data = (c, _) =>
            {
                layer!.HoldOutput = 1000;
                c.Send(new byte[300]);
                pending.TrySetResult((c.PendingSendBytes, layer.PendingOutputBytes));
            },
        };
        var options = new TcpServerOptions();
        options.Connection.LayerFactory = () => layer = new XorLayer();
        using var harness = new ServerHarness(() => handler, options);
        using Socket client = harness.Connect();
        var peer = new XorPeer(client);
        peer.ReadServerHello();

        peer.SendClientHello(andThen: "x");
        (long duringCallback, long layerHeld) = Wait.Result(pending.Task);

        duringCallback.Should().Be(300 + 1000, "plaintext gathered in the callback plus what the layer says it holds");
        layerHeld.Should().Be(1000);
    }

    [Fact]
    public void Layer_HandlerSendsPastTheWatermarkThenClosesFromOnData_TheLayerIsNeverCalledReentrantly()
    {
        var events = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var closed = new TaskCompletionSource<ConnectionCloseReason>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler
        {
            Data = (c, data) =>
            {
                // Inside the layer's delivery: 20 KiB against a 4 KiB watermark, then Close.
                for (int i = 0; i < 20; i++)
                {
                    c.Send(new byte[1024]);
                }

                c.Close();
            },
            Full = _ => events.Enqueue("full"),
            Closed = (_, reason, _) => closed.TrySetResult(reason),
        };
        var options = new TcpServerOptions { Connection = { SendHighWatermark = 4096, SendLowWatermark = 1024 } };
        options.Connection.LayerFactory = () => new XorLayer();
        using var harness = new ServerHarness(() => handler, options);
        using Socket client = harness.Connect();
        var peer = new XorPeer(client);
        peer.ReadServerHello();

        peer.SendClientHello(andThen: "go");
        string reply = peer.ReadRecords(20 * 1024);
        bool endMarker = peer.ReadEndMarker();
        peer.SendEndMarker();
        client.Shutdown(SocketShutdown.Send);

        reply.Should().Be(new string('\0', 20 * 1024));
        endMarker.Should().BeTrue();
        Wait.Result(closed.Task).Should().Be(ConnectionCloseReason.LocalClose, "no layer call was re-entrant (the layer would have thrown)");
        events.Should().Contain("full", "plaintext the layer could not take yet counts against the watermark");
    }

    [Fact]
    public void Layer_OnBothEnds_TheConnectorsClientConnectsHandshakesAndEchoes()
    {
        using var harness = LayeredServer(new TestEchoHandler());
        var received = new System.Text.StringBuilder();
        var closed = new TaskCompletionSource<ConnectionCloseReason>(TaskCreationOptions.RunContinuationsAsynchronously);
        var order = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var client = new DelegateHandler
        {
            Connected = c =>
            {
                order.Enqueue($"connected:{c.IsOpen}");
                c.Send("ping"u8);
            },
            Data = (c, data) =>
            {
                received.Append(Encoding.ASCII.GetString(data));
                if (received.Length == 8)
                {
                    c.Close();
                }
            },
            Closed = (_, reason, _) => closed.TrySetResult(reason),
        };
        var options = new TcpConnectorOptions();
        options.Connection.LayerFactory = () => new XorLayer(client: true);

        harness.Reactor.Post(() =>
        {
            TcpConnection connection = TcpConnector.Connect(harness.Reactor, harness.EndPoint, client, options);
            connection.Send("pong"u8).Should().BeTrue("sends before the handshake are queued");
            order.Enqueue($"queued:{connection.IsOpen}");
        });

        Wait.Result(closed.Task).Should().Be(ConnectionCloseReason.LocalClose, "the end markers were exchanged, then both FINs");
        received.ToString().Should().Be("pongping", "queued before the handshake, then sent from OnConnected, each echoed");
        order.Should().Equal("queued:False", "connected:True");
    }

    private static ServerHarness LayeredServer(ConnectionHandler handler)
    {
        var options = new TcpServerOptions();
        options.Connection.LayerFactory = () => new XorLayer();
        return new ServerHarness(() => handler, options);
    }

    /// <summary>
    /// The test layer's wire format. Handshake: the server sends 'X' and a key byte, the client answers "OK". Then
    /// records: a length byte (1-255) and that many bytes XORed with the key; a zero length is the end marker.
    /// </summary>
    private sealed class XorLayer(bool client = false) : ConnectionLayer
    {
        private const byte Key = 0x5A;
        private const int DeliverAtMost = 4;
        private readonly List<byte> _input = new();
        private readonly Queue<byte> _plain = new();
        private bool _open;
        private bool _ended;
        private bool _inCall;

        public long HoldOutput { get; set; }

        public void Leave() => _inCall = false;

        public override bool HasPendingInput => _plain.Count > 0;

        public override bool NeedsInput => !_open;

        public override long PendingOutputBytes => HoldOutput;

        public override void OnStart()
        {
            if (!client)
            {
                Host.WriteToTransport([(byte)'X', Key]); // the client waits for this, then answers "OK"
            }
        }

        public override void OnReceived(ReadOnlySpan<byte> data)
        {
            using var call = Enter();
            _input.AddRange(data.ToArray()); // copied: the span is the reactor's buffer
            if (!_open)
            {
                if (_input.Count < 2)
                {
                    return;
                }

                if (client ? _input[0] != 'X' || _input[1] != Key : _input[0] != 'O' || _input[1] != 'K')
                {
                    Host.Fail(ConnectionCloseReason.ConnectionReset, new IOException("bad handshake"));
                    return;
                }

                _input.RemoveRange(0, 2);
                if (client)
                {
                    Host.WriteToTransport("OK"u8);
                }

                _open = true;
                Decode();
                Host.Open(); // pending input, if any, is delivered after OnConnected without another read
                return;
            }

            Decode();
            DeliverWhilePossible();
        }

        public override void OnTransportEnd()
        {
            using var call = Enter();
            if (!_ended)
            {
                Host.Fail(ConnectionCloseReason.ConnectionReset, new IOException("The stream was truncated: FIN without the end marker."));
            }
        }

        public override void DeliverPending()
        {
            using var call = Enter();
            DeliverWhilePossible();
        }

        private void DeliverWhilePossible()
        {
            while (_plain.Count > 0 && Host.CanDeliver)
            {
                int n = Math.Min(DeliverAtMost, _plain.Count);
                byte[] piece = new byte[n];
                for (int i = 0; i < n; i++)
                {
                    piece[i] = _plain.Dequeue();
                }

                Host.Deliver(piece);
            }

            if (_plain.Count == 0 && _ended)
            {
                Host.DeliverEndOfStream();
            }
        }

        public override void Write(ReadOnlySpan<byte> data)
        {
            using var call = Enter();
            while (!data.IsEmpty)
            {
                int n = Math.Min(255, data.Length);
                Span<byte> record = Host.Transport.GetSpan(n + 1);
                record[0] = (byte)n;
                for (int i = 0; i < n; i++)
                {
                    record[i + 1] = (byte)(data[i] ^ Key);
                }

                Host.Transport.Advance(n + 1);
                data = data[n..];
            }
        }

        public override void OnShutdownOutput()
        {
            using var call = Enter();
            Host.WriteToTransport([0]);
        }

        public override void OnClosed() => _input.Clear();

        /// <summary>Fails loudly if the connection calls the layer from inside one of its own calls.</summary>
        private Exit Enter()
        {
            if (_inCall)
            {
                throw new InvalidOperationException("The connection called its layer re-entrantly.");
            }

            _inCall = true;
            return new Exit(this);
        }

        private void Decode()
        {
            while (_input.Count > 0 && !_ended)
            {
                int length = _input[0];
                if (length == 0)
                {
                    _input.RemoveAt(0);
                    _ended = true;
                    if (_plain.Count == 0)
                    {
                        Host.DeliverEndOfStream();
                    }

                    return;
                }

                if (_input.Count < length + 1)
                {
                    return;
                }

                for (int i = 1; i <= length; i++)
                {
                    _plain.Enqueue((byte)(_input[i] ^ Key));
                }

                _input.RemoveRange(0, length + 1);
            }
        }
    }

    private readonly struct Exit(XorLayer layer) : IDisposable
    {
        public void Dispose() => layer.Leave();
    }

    /// <summary>The client side of <see cref="XorLayer"/>'s format, on a blocking socket.</summary>
    private sealed class XorPeer(Socket socket)
    {
        private byte _key;

        public void ReadServerHello()
        {
            byte[] hello = SocketIo.ReceiveExactly(socket, 2);
            hello[0].Should().Be((byte)'X');
            _key = hello[1];
        }

        public void SendClientHello(string? andThen)
        {
            var bytes = new List<byte> { (byte)'O', (byte)'K' };
            if (andThen is not null)
            {
                bytes.AddRange(Record(andThen));
            }

            socket.Send(bytes.ToArray());
        }

        public void SendRecord(string text) => socket.Send(Record(text));

        public void SendEndMarker() => socket.Send(new byte[] { 0 });

        public string ReadRecords(int plaintextLength)
        {
            var text = new StringBuilder();
            while (text.Length < plaintextLength)
            {
                int length = SocketIo.ReceiveExactly(socket, 1)[0];
                length.Should().BeGreaterThan(0, "a data record, not the end marker");
                text.Append(Encoding.ASCII.GetString(SocketIo.ReceiveExactly(socket, length).Select(b => (byte)(b ^ _key)).ToArray()));
            }

            return text.ToString();
        }

        public bool ReadEndMarker() => SocketIo.ReceiveExactly(socket, 1)[0] == 0;

        private byte[] Record(string text) => [(byte)text.Length, .. Encoding.ASCII.GetBytes(text).Select(b => (byte)(b ^ _key))];
    }
}
