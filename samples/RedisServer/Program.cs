using System;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using RedisServer;

RedisOptions? options = RedisOptions.Parse(args, out string? error);
if (options is null)
{
    RawOutput.Error.WriteLine($"error: {error}");
    RawOutput.Error.WriteLine(RedisOptions.Usage);
    return 2;
}

if (options.Help)
{
    RawOutput.Out.WriteLine(RedisOptions.Usage);
    return 0;
}

IPAddress? address = IPAddress.TryParse(options.Host, out IPAddress? parsed) ? parsed : ResolveHost(options.Host);
if (address is null)
{
    RawOutput.Error.WriteLine($"error: cannot resolve host '{options.Host}'");
    return 2;
}

// Logs go to stderr, so stdout carries exactly one line: the address we listen on.
using ILoggerFactory loggerFactory = LoggerFactory.Create(logging => logging
    .SetMinimumLevel(options.LogLevel)
    .AddSimpleConsole(console => console.SingleLine = true)
    .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace));

RedisApp app;
try
{
    app = new RedisApp(new IPEndPoint(address, options.Port), options.MaxConnections, loggerFactory);
}
catch (SocketException e)
{
    RawOutput.Error.WriteLine($"error: cannot listen on {options.Host}:{options.Port}: {e.Message}");
    return 1;
}

using (app)
{
    RawOutput.Out.WriteLine($"listening on {app.Server.LocalEndPoint}");

    // Ctrl+C and SIGTERM, as the echo server: stop accepting, close connections gracefully, give up on stragglers
    // after 3 seconds (disposing the reactor then resets them), and exit 0.
    using var stopped = new ManualResetEventSlim();
    void Shutdown(PosixSignalContext context)
    {
        context.Cancel = true;
        app.Server.Stop();
        _ = app.Server.Completion.WaitAsync(TimeSpan.FromSeconds(3)).ContinueWith(_ => stopped.Set(), TaskScheduler.Default);
    }

    using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Shutdown);
    using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Shutdown);
    stopped.Wait();
}

return 0;

static IPAddress? ResolveHost(string host)
{
    try
    {
        return Dns.GetHostAddresses(host)[0];
    }
    catch (Exception e) when (e is SocketException or IndexOutOfRangeException or ArgumentException)
    {
        return null;
    }
}
