using System;
using System.Collections.Generic;
using System.Net.Sockets;

namespace SelectReactor;

/// <summary>
/// Finds out whether one socket is dead: a zero-timeout select over it alone, in each list it watches, through the
/// reactor's select seam. A live socket costs one cheap call per list; a dead one identifies itself by throwing
/// (ObjectDisposedException, SocketException, or whatever the runtime throws for a bad handle). Reactor thread only.
/// </summary>
internal sealed class DeadSocketProbe
{
    private readonly List<Socket> _one = new(1);

    /// <summary>The exception that shows <paramref name="socket"/> is dead, or null if it is alive.</summary>
    /// <param name="socket">The socket.</param>
    /// <param name="interest">The lists to probe it in; one that watches nothing is probed as if it read.</param>
    /// <param name="select">The reactor's select seam.</param>
    public Exception? Check(Socket socket, int interest, SelectCall select)
    {
        if (interest == 0)
        {
            interest = (int)Interest.Read;
        }

        try
        {
            if ((interest & (int)Interest.Read) != 0)
            {
                CheckOne(socket, 0, select);
            }

            if ((interest & (int)Interest.Write) != 0)
            {
                CheckOne(socket, 1, select);
            }

            if ((interest & (int)Interest.Error) != 0)
            {
                CheckOne(socket, 2, select);
            }

            return null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Expected: this is how a dead socket identifies itself.
            return e;
        }
    }

    private void CheckOne(Socket socket, int list, SelectCall select)
    {
        _one.Clear();
        _one.Add(socket);
        select(list == 0 ? _one : null, list == 1 ? _one : null, list == 2 ? _one : null, 0);
    }
}
