namespace SelectReactor;

/// <summary>Why a <see cref="Registration"/> ended. Passed to <see cref="IEventHandler.OnClosed"/>.</summary>
public enum CloseReason
{
    /// <summary>The registration was disposed by user code (<see cref="Registration.Dispose"/>).</summary>
    Unregistered,

    /// <summary>The socket died behind the reactor's back (for example it was disposed while registered) and was evicted by the dead-socket probe.</summary>
    DeadSocket,

    /// <summary>A callback of the registration's handler threw; the exception is passed along.</summary>
    HandlerFault,

    /// <summary>The reactor was disposed while the registration was still active.</summary>
    ReactorDisposed,
}
