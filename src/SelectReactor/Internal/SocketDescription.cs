using System;
using System.Net;
using System.Net.Sockets;

namespace SelectReactor;

/// <summary>Describes a socket for logs without ever throwing (the socket may be dead).</summary>
internal static class SocketDescription
{
    public static string Describe(Socket socket)
    {
        return $"{Endpoint(socket, local: true)} -> {Endpoint(socket, local: false)}";
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
}
