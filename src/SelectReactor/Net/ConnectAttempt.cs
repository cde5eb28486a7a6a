using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;

namespace SelectReactor.Net;

/// <summary>
/// One outgoing connect: resolution, each address in turn, and the overall timeout. Reactor thread only. Posted to
/// start from another thread, it is run, or ends the connection with ReactorDisposed if the reactor drops it.
/// </summary>
internal sealed class ConnectAttempt(TcpConnection connection, EndPoint remote, TcpConnectorOptions options, ILogger logger) : IReactorWork
{
    private IPAddress[]? _addresses;
    private int _next;
    private IDisposable? _timeout;
    private SocketException? _lastError;
    private bool _done;

    void IReactorWork.Run() => Start();

    void IReactorWork.Drop() => Abandon();

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
        // On a thread-pool thread: hop back to the reactor, which goes on from there or, disposed meanwhile, drops it.
        try
        {
            connection.Reactor.Post(new Resolution(this, task));
        }
        catch (ObjectDisposedException)
        {
            // Expected when the reactor shut down while the name was resolving: it runs nothing any more, so the
            // connection ends here.
            Abandon();
        }
    }

    /// <summary>The reactor is gone before this attempt could finish: the connection ends with ReactorDisposed.</summary>
    private void Abandon()
    {
        if (!_done)
        {
            _done = true;
            _timeout?.Dispose();
            connection.Terminate(ConnectionCloseReason.ReactorDisposed, null, reset: false);
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
        catch
        {
            socket.Dispose(); // the reactor refused the registration (it is shutting down): the caller hears of it
            throw;
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

    /// <summary>A name lookup's result on its way back to the reactor thread.</summary>
    private sealed class Resolution(ConnectAttempt attempt, Task<IPAddress[]> task) : IReactorWork
    {
        public void Run() => attempt.OnResolved(task);

        public void Drop() => attempt.Abandon();
    }
}
