using System;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SelectReactor.Hosting;
using SelectReactor.Samples;

namespace ChatServer;

/// <summary>Builds the chat server's host: a reactor, one TCP server of <see cref="ChatHandler"/>s and the room they share.</summary>
internal static class ChatApp
{
    public static IHost Build(ChatOptions options, Action<ILoggingBuilder>? logging = null)
    {
        // An empty builder: the command line is the only configuration, and logging is exactly what the caller adds
        // (the program logs to stderr, so that stdout carries nothing but the "listening on" line).
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(settings: null);
        logging?.Invoke(builder.Logging);
        // On SIGTERM or Ctrl+C the host stops the server, which closes every connection gracefully; a client that has
        // not finished closing after 3 seconds is reset, so the process always exits well within 5 seconds (the
        // host's own default, 30 s, would leave it to each connection's 5 s close timeout).
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(3));
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<ChatRoom>();
        builder.Services.AddSelectReactor(reactor => reactor.Name = "chat");
        builder.Services.AddTcpServer<ChatHandler>(new IPEndPoint(options.Host, options.Port), server =>
        {
            // A client that stops reading must not slow the room down or make the server hoard its output: once
            // this much is waiting for it, it is disconnected. Above half of it the server also stops reading from
            // that client, so a flooder that does not read is throttled by TCP before it is cut off.
            server.Connection.MaxPendingSendBytes = options.MaxPendingBytes;
            server.Connection.SendHighWatermark = options.MaxPendingBytes / 2;
            server.Connection.SendLowWatermark = options.MaxPendingBytes / 8;
            if (options.TlsCertificate is { } certificate)
            {
                TlsCertificate.Configure(server, certificate); // TLS (--tls-cert): the handler is the same, it sees plaintext lines
            }
        });
        return builder.Build();
    }
}
