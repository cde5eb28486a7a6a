// The smallest real use of the SelectReactor package: a reactor on its own thread, a TcpServer that echoes, and a
// TcpConnector client that sends one message over loopback and prints what comes back.
using System.Net;
using System.Text;
using SelectReactor;
using SelectReactor.Net;

const string Message = "hello from the SelectReactor package";

using var reactor = new Reactor();
using var server = new TcpServer(reactor, new IPEndPoint(IPAddress.Loopback, 0), () => new Echo());
server.Start();
var echoed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
TcpConnector.Connect(reactor, server.LocalEndPoint!, new Client(Message, echoed));
var loop = new Thread(() => reactor.Run()) { IsBackground = true };
loop.Start();

bool done = echoed.Task.Wait(TimeSpan.FromSeconds(10));
reactor.Stop();
loop.Join();
if (!done)
{
    Console.Error.WriteLine("no echo within 10 seconds");
    return 1;
}

Console.WriteLine($"echoed: {echoed.Task.Result}");
return 0;

sealed class Echo : ConnectionHandler
{
    public override void OnData(TcpConnection connection, ReadOnlySpan<byte> data) => connection.Send(data);
}

sealed class Client(string message, TaskCompletionSource<string> echoed) : ConnectionHandler
{
    private readonly List<byte> _received = new();

    public override void OnConnected(TcpConnection connection) => connection.Send(Encoding.UTF8.GetBytes(message));

    public override void OnData(TcpConnection connection, ReadOnlySpan<byte> data)
    {
        _received.AddRange(data);
        if (_received.Count >= Encoding.UTF8.GetByteCount(message))
        {
            echoed.TrySetResult(Encoding.UTF8.GetString(_received.ToArray()));
            connection.Close();
        }
    }

    public override void OnClosed(TcpConnection connection, ConnectionCloseReason reason, Exception? error) =>
        echoed.TrySetException(new InvalidOperationException($"closed before the echo came back: {reason}", error));
}
