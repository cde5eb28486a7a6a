using System;
using System.Threading;

namespace SelectReactor.Net;

/// <summary>
/// One reactor's share of a server's budget for pending output (<see cref="TcpServerOptions.MaxPendingSendBytesTotal"/>):
/// the sum of what the server's connections on that reactor hold after each flush. Charged on that reactor's thread
/// only; read from any. Output that leaves within the callback that wrote it is never charged, so a server whose
/// peers keep up pays nothing here.
/// </summary>
internal sealed class OutputBudget(long limit, Action<TcpConnection> onExceeded)
{
    private long _used;

    public long Limit => limit;

    /// <summary>Bytes charged now.</summary>
    public long Used => Volatile.Read(ref _used);

    /// <summary>Adds <paramref name="delta"/> (negative to release); <see langword="true"/> when the total is then over the limit.</summary>
    public bool Charge(long delta) => Interlocked.Add(ref _used, delta) > limit;

    /// <summary>A charge by <paramref name="connection"/> took the total over the limit. On the reactor's thread.</summary>
    public void OnExceeded(TcpConnection connection) => onExceeded(connection);
}
