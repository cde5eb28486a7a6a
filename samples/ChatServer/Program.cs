using System;
using System.Net;
using System.Net.Sockets;
using ChatServer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SelectReactor.Hosting;
using SelectReactor.Samples;

// A line-based chat room on the generic host. Try it: run it, then `nc 127.0.0.1 7010` in two or three terminals.
ChatOptions? options = ChatOptions.Parse(args, out string? error);
if (options is null)
{
    Console.Error.WriteLine($"error: {error}");
    Console.Error.WriteLine(ChatOptions.Usage);
    return 2;
}

if (options.Help)
{
    Console.WriteLine(ChatOptions.Usage);
    return 0;
}

if (options.TlsCertificateFile is not null)
{
    if (!TlsCertificate.TryLoad(options.TlsCertificateFile, options.TlsKeyFile, out object? certificate, out string? tlsError))
    {
        Console.Error.WriteLine($"error: {tlsError}");
        return 2;
    }

    options.TlsCertificate = certificate;
}

// Console.Out and Console.Error are set up now, while descriptors are free, not at their first line (see ChatRoom).
_ = Console.Out;
_ = Console.Error;

// Logs go to stderr, so stdout carries exactly one line: the address we listen on.
IHost host = ChatApp.Build(options, logging => logging
    .SetMinimumLevel(options.LogLevel)
    .AddSimpleConsole(console => console.SingleLine = true)
    .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace));
try
{
    await host.StartAsync();
}
catch (SocketException e)
{
    host.Dispose(); // flushes the logs first, so that this line comes last
    Console.Error.WriteLine($"error: {e.Message}"); // the message names the end point
    return 1;
}

using IHost running = host;
EndPoint endPoint = host.Services.GetRequiredService<TcpServerRegistry>().GetServer<ChatHandler>().LocalEndPoint!;
Console.WriteLine($"listening on {endPoint}");

// Ctrl+C or SIGTERM: the host stops the server, which closes every connection gracefully.
await host.WaitForShutdownAsync();
return 0;
