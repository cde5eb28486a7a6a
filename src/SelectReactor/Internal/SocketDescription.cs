using System;
using System.Net;
using System.Net.Sockets;

namespace SelectReactor;

/// <summary>Describes sockets, registrations and handlers for logs without ever throwing (the socket may be dead).</summary>
internal static class SocketDescription
{
    public static string Describe(Socket socket)
    {
        return $"{Endpoint(socket, local: true)} -> {Endpoint(socket, local: false)}";
    }

    /// <summary>
    /// A registration's socket as "local -> remote": read now while the socket lives (and remembered), otherwise as
    /// last read while it lived. The reactor reads it when it registers and closes the socket while debug logging is
    /// on, so a line about a socket that has since died still names its end points.
    /// </summary>
    public static string Describe(Registration registration)
    {
        string? now = TryDescribe(registration.Socket);
        if (now is not null)
        {
            registration.EndPoints = now;
            return now;
        }

        return registration.EndPoints is { } then ? $"{then}, since closed" : "a socket closed before its end points were read";
    }

    /// <summary>Reads and remembers a registration's end points while its socket lives, for later log lines.</summary>
    public static void Remember(Registration registration)
    {
        if (TryDescribe(registration.Socket) is { } now)
        {
            registration.EndPoints = now;
        }
    }

    /// <summary>The handler's type, with its declaring type for nested ones ("TcpConnection.Events").</summary>
    public static string HandlerName(IEventHandler handler)
    {
        Type type = handler.GetType();
        return type.DeclaringType is { } outer ? $"{outer.Name}.{type.Name}" : type.Name;
    }

    public static string Endpoint(Socket socket, bool local)
    {
        try
        {
            EndPoint? endPoint = local ? socket.LocalEndPoint : socket.RemoteEndPoint;
            return endPoint?.ToString() ?? "-";
        }
        catch (ObjectDisposedException)
        {
            // Expected: describing a socket that died is the reason we are logging.
            return "disposed";
        }
        catch (SocketException)
        {
            // Expected: not connected, or the descriptor has gone bad.
            return "-";
        }
    }

    /// <summary>"local -> remote", or null when the socket is disposed.</summary>
    private static string? TryDescribe(Socket socket)
    {
        try
        {
            EndPoint? local = socket.LocalEndPoint;
            string remote = Endpoint(socket, local: false);
            return remote == "disposed" ? null : $"{local?.ToString() ?? "-"} -> {remote}";
        }
        catch (ObjectDisposedException)
        {
            // Expected: the socket died; the caller falls back to what was read while it lived.
            return null;
        }
        catch (SocketException)
        {
            // Expected: the descriptor has gone bad; nothing better to read.
            return $"- -> {Endpoint(socket, local: false)}";
        }
    }
}
