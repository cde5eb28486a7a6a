using System;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using RedisServer;
using SelectReactor;

// Console.Out and Console.Error first, while descriptors are free, not at their first line. (They write at the
// descriptor's shared offset, so with `> log 2>&1` the logger's lines and ours follow each other whole.)
_ = Console.Out;
_ = Console.Error;
RedisOptions? options = RedisOptions.Parse(args, out string? error);
if (options is null)
{
    Console.Error.WriteLine($"error: {error}");
    Console.Error.WriteLine(RedisOptions.Usage);
    return 2;
}

if (options.Help)
{
    Console.WriteLine(RedisOptions.Usage);
    return 0;
}

IPEndPoint? endPoint = ResolveEndPoint(options, out string? resolveError);
if (endPoint is null)
{
    Console.Error.WriteLine($"error: {resolveError}");
    Console.Error.WriteLine(RedisOptions.Usage);
    return 2;
}

// Ctrl+C and SIGTERM are caught from here on, before anything says it is ready: a signal that comes at any time
// after the "listening on" line (or before it) stops the server gracefully and the process exits 0. Stragglers get
// 3 seconds to finish closing, then are reset, so that the process always exits well within 5 seconds.
using var shutdown = new ShutdownSignal(TimeSpan.FromSeconds(3));

// Logs go to stderr, so stdout carries exactly one line: the address we listen on.
using ILoggerFactory loggerFactory = LoggerFactory.Create(logging => logging
    .SetMinimumLevel(options.LogLevel)
    .AddSimpleConsole(console => console.SingleLine = true)
    .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace));

RedisApp app;
try
{
    app = new RedisApp(endPoint, options.MaxConnections, loggerFactory);
}
catch (SocketException e)
{
    Console.Error.WriteLine($"error: {e.Message}"); // the message names the end point
    return 1;
}

using (app)
{
    Console.WriteLine($"listening on {app.Server.LocalEndPoint}");

    // Until Ctrl+C or SIGTERM; then stop accepting and close every connection gracefully.
    if (!shutdown.Wait(app.Group, app.Server.Stop))
    {
        Console.Error.WriteLine($"warn: the stop took over {shutdown.Timeout.TotalSeconds:0} s; connections reset: {app.Server.ConnectionCount}");
    }
}

return 0;

static IPEndPoint? ResolveEndPoint(RedisOptions options, out string? error)
{
    error = null;
    if (IPAddress.TryParse(options.Host, out IPAddress? address))
    {
        return new IPEndPoint(address, options.Port);
    }

    try
    {
        return new IPEndPoint(Dns.GetHostAddresses(options.Host)[0], options.Port);
    }
    catch (Exception e) when (e is SocketException or IndexOutOfRangeException or ArgumentException)
    {
        error = $"cannot resolve host '{options.Host}': {e.Message}";
        return null;
    }
}
