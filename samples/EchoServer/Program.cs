using System;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using EchoServer;
using Microsoft.Extensions.Logging;
using SelectReactor;
using SelectReactor.Net;

EchoOptions? options = EchoOptions.Parse(args, out string? error);
if (options is null)
{
    Console.Error.WriteLine($"error: {error}");
    Console.Error.WriteLine(EchoOptions.Usage);
    return 2;
}

if (options.Help)
{
    Console.Out.WriteLine(EchoOptions.Usage);
    return 0;
}

EndPoint endPoint;
if (options.UnixPath is not null)
{
    endPoint = new UnixDomainSocketEndPoint(options.UnixPath);
}
else if (IPAddress.TryParse(options.Host, out IPAddress? address))
{
    endPoint = new IPEndPoint(address, options.Port);
}
else
{
    try
    {
        endPoint = new IPEndPoint(Dns.GetHostAddresses(options.Host)[0], options.Port);
    }
    catch (Exception e) when (e is SocketException or IndexOutOfRangeException or ArgumentException)
    {
        Console.Error.WriteLine($"error: cannot resolve host '{options.Host}': {e.Message}");
        Console.Error.WriteLine(EchoOptions.Usage);
        return 2;
    }
}

// Logs go to stderr, so stdout carries exactly one line: the address we listen on.
using ILoggerFactory loggerFactory = LoggerFactory.Create(logging => logging
    .SetMinimumLevel(options.LogLevel)
    .AddSimpleConsole(console => console.SingleLine = true)
    .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace));

using var reactor = new Reactor(new ReactorOptions { LoggerFactory = loggerFactory, Name = "echo" });
var serverOptions = new TcpServerOptions { MaxConnections = options.MaxConnections };
if (options.IdleTimeout is { } idle)
{
    serverOptions.Connection.IdleTimeout = idle;
}

using var server = new TcpServer(reactor, endPoint, () => EchoHandler.Instance, serverOptions);
try
{
    server.Start();
}
catch (SocketException e)
{
    Console.Error.WriteLine($"error: cannot listen on {endPoint}: {e.Message}");
    return 1;
}

Console.Out.WriteLine(server.LocalEndPoint is UnixDomainSocketEndPoint unix ? $"listening on unix:{unix}" : $"listening on {server.LocalEndPoint}");
Console.Out.Flush();

// Ctrl+C and SIGTERM: stop accepting, close connections gracefully, and give up on stragglers after 3 seconds
// (disposing the reactor then resets them), so the process always exits 0 well within 5 seconds.
void Shutdown(PosixSignalContext context)
{
    context.Cancel = true;
    server.Stop();
    _ = server.Completion.WaitAsync(TimeSpan.FromSeconds(3)).ContinueWith(_ => reactor.Stop(), TaskScheduler.Default);
}

using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Shutdown);
using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Shutdown);

reactor.Run();
return 0;
