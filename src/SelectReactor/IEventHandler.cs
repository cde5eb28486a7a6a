using System;
using System.Diagnostics.CodeAnalysis;

namespace SelectReactor;

/// <summary>
/// Receives the readiness events of one registered socket. Every method is called on the reactor's thread,
/// never concurrently with another callback of the same reactor.
/// </summary>
/// <remarks>
/// A callback may do anything the reactor allows from its own thread: read or write the socket, change
/// <see cref="Registration.Interest"/>, dispose this or any other registration, register new sockets, post,
/// schedule, or stop the reactor. An exception thrown from a readiness callback closes the registration with
/// <see cref="CloseReason.HandlerFault"/>; it never reaches the loop or other registrations.
/// </remarks>
[SuppressMessage("Naming", "CA1711", Justification = "The name is the project's fixed public API.")]
[SuppressMessage("Naming", "CA1716", Justification = "'error' reads best in C#, the language this library targets.")]
public interface IEventHandler
{
    /// <summary>The socket is readable: data, end of stream, or (for a listener) a pending connection.</summary>
    /// <param name="registration">The registration that became ready.</param>
    void OnReadable(Registration registration);

    /// <summary>The socket is writable, or a non-blocking connect finished (successfully or not).</summary>
    /// <param name="registration">The registration that became ready.</param>
    void OnWritable(Registration registration);

    /// <summary>The socket came back in <see cref="System.Net.Sockets.Socket.Select(System.Collections.IList, System.Collections.IList, System.Collections.IList, int)"/>'s error list.</summary>
    /// <param name="registration">The registration that reported an error condition.</param>
    void OnError(Registration registration);

    /// <summary>
    /// The registration ended. Called exactly once per registration, always after every other callback of it.
    /// The reactor does not dispose the socket; the handler owns it.
    /// </summary>
    /// <param name="registration">The registration that ended; <see cref="Registration.IsActive"/> is <see langword="false"/>.</param>
    /// <param name="reason">Why it ended.</param>
    /// <param name="error">The exception behind <see cref="CloseReason.DeadSocket"/> or <see cref="CloseReason.HandlerFault"/>; otherwise <see langword="null"/>.</param>
    void OnClosed(Registration registration, CloseReason reason, Exception? error);
}
