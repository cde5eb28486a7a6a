using System;

namespace SelectReactor;

/// <summary>Adapts delegates to <see cref="IEventHandler"/>; created once per registration, so events allocate nothing.</summary>
internal sealed class DelegateEventHandler(
    Action<Registration>? onReadable,
    Action<Registration>? onWritable,
    Action<Registration>? onError,
    Action<Registration, CloseReason, Exception?>? onClosed) : IEventHandler
{
    public void OnReadable(Registration registration) => onReadable?.Invoke(registration);

    public void OnWritable(Registration registration) => onWritable?.Invoke(registration);

    public void OnError(Registration registration) => onError?.Invoke(registration);

    public void OnClosed(Registration registration, CloseReason reason, Exception? error) => onClosed?.Invoke(registration, reason, error);
}
