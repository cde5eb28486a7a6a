using System;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EchoServer;
using Microsoft.Extensions.Logging;
using SelectReactor;
using SelectReactor.Net;
using SelectReactor.Samples;

// Console.Out and Console.Error first, while descriptors are free, not at their first line. (They write at the
// descriptor's shared offset, so with `> log 2>&1` the logger's lines and ours follow each other whole.)
_ = Console.Out;
_ = Console.Error;
EchoOptions? options = EchoOptions.Parse(args, out string? error);
if (options is null)
{
    Console.Error.WriteLine($"error: {error}");
    Console.Error.WriteLine(EchoOptions.Usage);
    return 2;
}

if (options.Help)
{
    Console.WriteLine(EchoOptions.Usage);
    return 0;
}

EndPoint? endPoint = ResolveEndPoint(options, out string? resolveError);
if (endPoint is null)
{
    Console.Error.WriteLine($"error: {resolveError}");
    Console.Error.WriteLine(EchoOptions.Usage);
    return 2;
}

// Ctrl+C and SIGTERM are caught from here on, before anything says it is ready: a signal that comes at any time
// after the "listening on" line (or before it) stops the server gracefully and the process exits 0. Stragglers get
// 3 seconds to finish closing, then are reset, so that the process always exits well within 5 seconds.
using var shutdown = new ShutdownSignal(TimeSpan.FromSeconds(3));

// Logs go to stderr, so stdout carries exactly one line: the address we listen on.
using ILoggerFactory loggerFactory = Logging.Create(options.LogLevel, out bool minimalLogging);

// One reactor thread by default; --reactors spreads connections over several, each connection staying on one.
using var group = new ReactorGroup(options.Reactors, new ReactorOptions { LoggerFactory = loggerFactory, Name = "echo" });
var serverOptions = new TcpServerOptions { MaxConnections = options.MaxConnections };
if (options.IdleTimeout is { } idle)
{
    serverOptions.Connection.IdleTimeout = idle;
}

if (options.HighWatermark is { } high)
{
    // The cap on queued output must stay above the watermark: at least 4 MiB (the default), or twice the mark.
    serverOptions.Connection.MaxPendingSendBytes = Math.Max(4L * 1024 * 1024, 2 * high);
    serverOptions.Connection.SendHighWatermark = high;
    serverOptions.Connection.SendLowWatermark = high / 4;
}

// TLS: the handler is the same; it sees plaintext. See the README's TLS quick start for a development certificate.
if (options.TlsCertificate is not null && !TlsCertificate.TryConfigure(serverOptions, options.TlsCertificate, options.TlsKey, out string? tlsError))
{
    Console.Error.WriteLine($"error: {tlsError}");
    return 2;
}

using var server = new TcpServer(group, endPoint, () => EchoHandler.Instance, serverOptions);
try
{
    server.Start();
}
catch (SocketException e)
{
    Console.Error.WriteLine($"error: {e.Message}"); // the message names the end point
    return 1;
}

// --udp: datagrams echoed on the same port number, on the first reactor.
using UdpEndpoint? udp = options.Udp && server.LocalEndPoint is IPEndPoint tcp
    ? new UdpEndpoint(group.Reactors[0], new IPEndPoint(tcp.Address, tcp.Port), new UdpEchoHandler())
    : null;
try
{
    udp?.Start();
}
catch (SocketException e)
{
    Console.Error.WriteLine($"error: cannot listen for UDP on {udp!.EndPoint}: {e.Message}");
    return 1;
}

if (minimalLogging)
{
    Console.Error.WriteLine("info: few descriptors allowed; logging through the minimal stderr provider");
}

Console.WriteLine(server.LocalEndPoint is UnixDomainSocketEndPoint unix ? $"listening on unix:{unix}" : $"listening on {server.LocalEndPoint}");

// Until Ctrl+C or SIGTERM; then stop accepting and close every connection gracefully.
if (!shutdown.Wait(group, () => { server.Stop(); udp?.Dispose(); }))
{
    Console.Error.WriteLine($"warn: the stop took over {shutdown.Timeout.TotalSeconds:0} s; connections reset: {server.ConnectionCount}");
}

return 0;

// Kept out of the main method so that, for an IP address, the name-resolution assembly is never loaded: under a
// tight descriptor limit every assembly counts (each keeps two descriptors open on Linux).
[MethodImpl(MethodImplOptions.NoInlining)]
static EndPoint? ResolveEndPoint(EchoOptions options, out string? error)
{
    error = null;
    if (options.UnixPath is not null)
    {
        return new UnixDomainSocketEndPoint(options.UnixPath);
    }

    if (IPAddress.TryParse(options.Host, out IPAddress? address))
    {
        return new IPEndPoint(address, options.Port);
    }

    return ResolveHost(options, out error);
}

[MethodImpl(MethodImplOptions.NoInlining)]
static IPEndPoint? ResolveHost(EchoOptions options, out string? error)
{
    try
    {
        error = null;
        return new IPEndPoint(Dns.GetHostAddresses(options.Host)[0], options.Port);
    }
    catch (Exception e) when (e is SocketException or IndexOutOfRangeException or ArgumentException)
    {
        error = $"cannot resolve host '{options.Host}': {e.Message}";
        return null;
    }
}
