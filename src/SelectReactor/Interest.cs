using System;

namespace SelectReactor;

/// <summary>The readiness events a <see cref="Registration"/> asks the reactor to watch for.</summary>
[Flags]
public enum Interest
{
    /// <summary>Watch nothing: the socket stays registered but no readiness callback is delivered.</summary>
    None = 0,

    /// <summary>Deliver <see cref="IEventHandler.OnReadable"/> when data, a connection to accept, or end of stream is waiting.</summary>
    Read = 1,

    /// <summary>Deliver <see cref="IEventHandler.OnWritable"/> when the socket can accept more outgoing bytes or a connect completed.</summary>
    Write = 2,

    /// <summary>Deliver <see cref="IEventHandler.OnError"/> when the socket comes back in <see cref="System.Net.Sockets.Socket.Select(System.Collections.IList, System.Collections.IList, System.Collections.IList, int)"/>'s error list (urgent data or a pending socket error, such as a refused connect).</summary>
    Error = 4,
}
