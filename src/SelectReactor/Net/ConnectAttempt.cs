using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;

namespace SelectReactor.Net;

/// <summary>One outgoing connect: resolution, each address in turn, and the overall timeout. Reactor thread only.</summary>
internal sealed class ConnectAttempt(TcpConnection connection, EndPoint remote, TcpConnectorOptions options, ILogger logger)
{
    private IPAddress[]? _addresses;
    private int _next;
    private IDisposable? _timeout;
    private SocketException? _lastError;
    private bool _done;

    public void Start()
    {
        if (connection.IsClosed)
        {
            return;
        }

        _timeout = connection.Reactor.Schedule(options.ConnectTimeout, OnTimeout);
        switch (remote)
        {
            case IPEndPoint ip:
                _addresses = [ip.Address];
                TryNext();
                break;
            case DnsEndPoint dns when IPAddress.TryParse(dns.Host, out IPAddress? literal):
                _addresses = [literal];
                TryNext();
                break;
            case DnsEndPoint dns:
                // The continuation only posts back to the reactor, so it runs on whichever thread completes the
                // lookup instead of waiting for a thread-pool thread (which a busy process may be short of).
                Dns.GetHostAddressesAsync(dns.Host, dns.AddressFamily).ContinueWith(
                    static (task, state) => ((ConnectAttempt)state!).Resolved(task),
                    this,
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
                break;
            default:
                ConnectUnix();
                break;
        }
    }

    /// <summary>The socket reported a failed connect: try the next address, or give up.</summary>
    public void Failed(SocketError error)
    {
        _lastError = new SocketException((int)error);
        if (_addresses is null)
        {
            Finish(ConnectionCloseReason.ConnectFailed, _lastError);
            return;
        }

        TryNext();
    }

    public void Succeeded()
    {
        _done = true;
        _timeout?.Dispose();
    }

    public void Cancel()
    {
        _done = true;
        _timeout?.Dispose();
    }

    private void Resolved(Task<IPAddress[]> task)
    {
        // On a thread-pool thread: hop back to the reactor. If it is gone, the connection went with it.
        try
        {
            connection.Reactor.Post(static s => s.Attempt.OnResolved(s.Task), (Attempt: this, Task: task));
        }
        catch (ObjectDisposedException)
        {
            // Expected: the reactor was disposed while the name was resolving.
        }
    }

    private void OnResolved(Task<IPAddress[]> task)
    {
        if (_done)
        {
            return;
        }

        if (!task.IsCompletedSuccessfully || task.Result.Length == 0)
        {
            Exception error = task.Exception?.GetBaseException() ?? new SocketException((int)SocketError.HostNotFound);
            Finish(ConnectionCloseReason.ConnectFailed, error);
            return;
        }

        _addresses = task.Result;
        TryNext();
    }

    private void TryNext()
    {
        if (_done)
        {
            return;
        }

        while (_next < _addresses!.Length)
        {
            IPAddress address = _addresses[_next++];
            int port = remote is IPEndPoint ip ? ip.Port : ((DnsEndPoint)remote).Port;
            if (TryConnect(new IPEndPoint(address, port)))
            {
                return;
            }
        }

        Finish(ConnectionCloseReason.ConnectFailed, _lastError ?? new SocketException((int)SocketError.HostNotFound));
    }

    private void ConnectUnix()
    {
        if (!TryConnect(remote))
        {
            Finish(ConnectionCloseReason.ConnectFailed, _lastError!);
        }
    }

    /// <summary>Starts one non-blocking connect; false when it failed at once.</summary>
    private bool TryConnect(EndPoint target)
    {
        Socket socket = target is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Blocking = false;
            if (options.NoDelay && target is IPEndPoint)
            {
                socket.NoDelay = true;
            }

            try
            {
                socket.Connect(target);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
            {
                // Expected: the connect goes on in the background; writability will tell how it ended.
            }

            connection.StartConnecting(socket, this);
            return true;
        }
        catch (SocketException e)
        {
            // Refused at once (or failed otherwise): the caller tries the next address.
            _lastError = e;
            socket.Dispose();
            return false;
        }
    }

    private void OnTimeout()
    {
        if (!_done && !connection.IsClosed)
        {
            Finish(ConnectionCloseReason.ConnectTimeout, new SocketException((int)SocketError.TimedOut));
        }
    }

    private void Finish(ConnectionCloseReason reason, Exception error)
    {
        _done = true;
        _timeout?.Dispose();
        ConnectionLog.ConnectFailed(logger, remote, reason, error);
        connection.Terminate(reason, error, reset: false);
    }
}
