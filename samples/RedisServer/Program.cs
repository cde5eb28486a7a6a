using System;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using RedisServer;

RawOutput.Initialize();
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

// Ctrl+C and SIGTERM are caught from here on, before the ready line: a signal at any moment stops gracefully.
using var shutdown = new SelectReactor.ShutdownSignal(TimeSpan.FromSeconds(3));

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
    RawOutput.Error.WriteLine($"error: {e.Message}"); // the message names the end point
    return 1;
}

using (app)
{
    RawOutput.Out.WriteLine($"listening on {app.Server.LocalEndPoint}");

    // Until Ctrl+C or SIGTERM; then stop accepting, close connections gracefully, and give up on stragglers after
    // 3 seconds (disposing the reactor then resets them).
    shutdown.Token.WaitHandle.WaitOne();
    app.Server.Stop();
    app.Server.Completion.Wait(shutdown.Timeout);
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
