using System;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using EchoServer;
using Microsoft.Extensions.Logging;
using SelectReactor;
using SelectReactor.Net;

EchoOptions? options = EchoOptions.Parse(args, out string? error);
if (options is null)
{
    RawOutput.Error.WriteLine($"error: {error}");
    RawOutput.Error.WriteLine(EchoOptions.Usage);
    return 2;
}

if (options.Help)
{
    RawOutput.Out.WriteLine(EchoOptions.Usage);
    return 0;
}

EndPoint? endPoint = ResolveEndPoint(options, out string? resolveError);
if (endPoint is null)
{
    RawOutput.Error.WriteLine($"error: {resolveError}");
    RawOutput.Error.WriteLine(EchoOptions.Usage);
    return 2;
}

// Logs go to stderr, so stdout carries exactly one line: the address we listen on.
using ILoggerFactory loggerFactory = Logging.Create(options.LogLevel, out bool minimalLogging);

// One reactor thread by default; --reactors spreads connections over several, each connection staying on one.
using var group = new ReactorGroup(options.Reactors, new ReactorOptions { LoggerFactory = loggerFactory, Name = "echo" });
var serverOptions = new TcpServerOptions { MaxConnections = options.MaxConnections };
if (options.IdleTimeout is { } idle)
{
    serverOptions.Connection.IdleTimeout = idle;
}

if (options.TlsCertificate is not null)
{
    // TLS: the handler is the same; it sees plaintext. See the README's TLS quick start for a development certificate.
    System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = TlsCertificate.Load(options.TlsCertificate, options.TlsKey, out string? tlsError);
    if (certificate is null)
    {
        RawOutput.Error.WriteLine($"error: {tlsError}");
        return 2;
    }

    serverOptions.Tls = new System.Net.Security.SslServerAuthenticationOptions { ServerCertificate = certificate };
}

using var server = new TcpServer(group, endPoint, () => EchoHandler.Instance, serverOptions);
try
{
    server.Start();
}
catch (SocketException e)
{
    RawOutput.Error.WriteLine($"error: cannot listen on {endPoint}: {e.Message}");
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
    RawOutput.Error.WriteLine($"error: cannot listen for UDP on {udp!.EndPoint}: {e.Message}");
    return 1;
}

if (minimalLogging)
{
    RawOutput.Error.WriteLine("info: few descriptors allowed; logging through the minimal stderr provider");
}

RawOutput.Out.WriteLine(server.LocalEndPoint is UnixDomainSocketEndPoint unix ? $"listening on unix:{unix}" : $"listening on {server.LocalEndPoint}");

// Ctrl+C and SIGTERM: stop accepting, close connections gracefully, and give up on stragglers after 3 seconds
// (disposing the reactors then resets them), so the process always exits 0 well within 5 seconds.
using var stopped = new ManualResetEventSlim();
void Shutdown(PosixSignalContext context)
{
    context.Cancel = true;
    server.Stop();
    _ = server.Completion.WaitAsync(TimeSpan.FromSeconds(3)).ContinueWith(_ => stopped.Set(), TaskScheduler.Default);
}

using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Shutdown);
using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Shutdown);

stopped.Wait();
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
