using System;
using System.Diagnostics;
using SelectReactor;

namespace RedisServer;

/// <summary>
/// What every connection of the server shares. The server runs on one reactor thread, like Redis, so nothing here
/// needs a lock.
/// </summary>
internal sealed class ServerState(Reactor reactor, TimeProvider time)
{
    public Reactor Reactor { get; } = reactor;

    public Keyspace Keyspace { get; } = new(time);

    public TimeProvider Time { get; } = time;

    /// <summary>The port listened on, for INFO and CONFIG GET port.</summary>
    public int Port { get; set; }

    public long StartedAt { get; } = Stopwatch.GetTimestamp();

    /// <summary>Inline requests are split into here: escapes change bytes, so they cannot be slices of the input.</summary>
    public byte[] InlineScratch { get; } = new byte[RespConnection.MaxInlineSize + 1];

    public int ConnectedClients { get; set; }

    public long CommandsProcessed { get; set; }
}
