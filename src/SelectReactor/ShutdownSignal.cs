using System;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading;

namespace SelectReactor;

/// <summary>
/// Turns Ctrl+C (SIGINT) and SIGTERM into a graceful stop, for a program that runs reactors without the generic host:
/// create it first, start your servers, then <see cref="Run"/> the reactor (or <see cref="Wait"/> for a
/// <see cref="ReactorGroup"/>). On the first signal your stop callback runs (typically <c>server.Stop</c>, which stops
/// accepting and closes every connection gracefully), the loop goes on until nothing is left registered or
/// <see cref="Timeout"/> has passed, and then the call returns so that the program can dispose its reactor and exit 0.
/// </summary>
/// <remarks>
/// <para>
/// From construction until <see cref="Dispose"/>, SIGINT and SIGTERM no longer end the process: a signal that comes
/// before <see cref="Run"/> or <see cref="Wait"/> is kept, and the call then stops at once. So create it before you
/// print that you are ready. A second signal during the stop cuts it short: the call returns at once, and disposing the
/// reactor then resets the connections still closing.
/// </para>
/// <para>
/// "Nothing left registered" is <see cref="Reactor.RegistrationCount"/> reaching zero on every reactor: the stop
/// callback must end whatever would otherwise stay (servers, UDP endpoints, connectors, your own registrations).
/// Timers do not count. Every member is safe from any thread.
/// </para>
/// </remarks>
public sealed class ShutdownSignal : IDisposable
{
    /// <summary>How long a stop may take when the constructor is not told: 5 seconds.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    // How often a stopping reactor checks whether everything has closed: short enough that an idle server exits at
    // once, and it runs only while stopping.
    private static readonly TimeSpan CheckPeriod = TimeSpan.FromMilliseconds(5);

    private readonly CancellationTokenSource _requested = new();
    private readonly CancellationTokenSource _hurry = new();
    private readonly PosixSignalRegistration? _sigint;
    private readonly PosixSignalRegistration? _sigterm;
    private int _requests;

    /// <summary>Starts catching SIGINT and SIGTERM, with a stop timeout of <see cref="DefaultTimeout"/>.</summary>
    /// <exception cref="PlatformNotSupportedException">The platform has no signals (browser, WASI).</exception>
    public ShutdownSignal()
        : this(DefaultTimeout)
    {
    }

    /// <summary>Starts catching SIGINT and SIGTERM.</summary>
    /// <param name="timeout">
    /// The longest a stop may take, from the signal to the return of <see cref="Run"/> or <see cref="Wait"/>. Keep it
    /// below what your supervisor allows before it kills the process (Docker 10 s, Kubernetes 30 s by default).
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is zero, negative or above <see cref="ReactorOptions.MaxTimeout"/>.</exception>
    /// <exception cref="PlatformNotSupportedException">The platform has no signals (browser, WASI).</exception>
    public ShutdownSignal(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero || timeout > ReactorOptions.MaxTimeout)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, $"The stop timeout must be positive and at most {ReactorOptions.MaxTimeout}; it was {timeout}.");
        }

        Timeout = timeout;
        _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    /// <summary>The longest a stop may take, from the request to the return of <see cref="Run"/> or <see cref="Wait"/>.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Cancelled when a stop is requested: by a signal or by <see cref="Request"/>.</summary>
    public CancellationToken Token => _requested.Token;

    /// <summary>
    /// Requests the same graceful stop as a signal, for example from a "shutdown" command. Safe from any thread,
    /// including a reactor callback; a second request cuts a stop in progress short.
    /// </summary>
    public void Request()
    {
        if (Interlocked.Increment(ref _requests) == 1)
        {
            _requested.Cancel();
        }
        else
        {
            _hurry.Cancel();
        }
    }

    /// <summary>
    /// Runs <paramref name="reactor"/>'s loop on the calling thread until a stop is requested, then calls
    /// <paramref name="stopping"/> on the reactor thread and keeps the loop running until nothing is registered on it
    /// any more, or <see cref="Timeout"/> has passed. Returns when the loop has stopped; dispose the reactor next.
    /// </summary>
    /// <param name="reactor">The reactor to run. Its loop must not be running yet.</param>
    /// <param name="stopping">Ends what the reactor runs, for example <c>server.Stop</c>. Runs once, on the reactor
    /// thread; an exception it throws is logged by the reactor and the stop goes on.</param>
    /// <returns><see langword="true"/> when everything had closed in time (or the loop was stopped without a request,
    /// by <see cref="Reactor.Stop"/>); <see langword="false"/> when the timeout or a second signal cut the stop short
    /// with registrations left, which disposing the reactor then closes (resetting connections).</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The loop is already running, or it failed (see <see cref="Reactor.Run"/>).</exception>
    /// <exception cref="ObjectDisposedException">The reactor is disposed.</exception>
    public bool Run(Reactor reactor, Action stopping)
    {
        ArgumentNullException.ThrowIfNull(reactor);
        ArgumentNullException.ThrowIfNull(stopping);
        using var loopEnd = CancellationTokenSource.CreateLinkedTokenSource(_hurry.Token);
        var stop = new ReactorStop(reactor, stopping, loopEnd, Timeout);
        using (Token.UnsafeRegister(static state => ((ReactorStop)state!).Begin(), stop))
        {
            reactor.Run(loopEnd.Token);
        }

        stop.End();
        return !Token.IsCancellationRequested || reactor.RegistrationCount == 0;
    }

    /// <summary>
    /// Blocks the calling thread until a stop is requested, then calls <paramref name="stopping"/> on it and waits
    /// until nothing is registered on any reactor of <paramref name="group"/>, or <see cref="Timeout"/> has passed.
    /// The group's loops keep running throughout; dispose the group next.
    /// </summary>
    /// <param name="group">The reactors, running on their own threads.</param>
    /// <param name="stopping">Ends what the reactors run, for example <c>server.Stop</c>. Runs once, on the calling
    /// thread, so it must use only members that are safe from any thread (as <see cref="Net.TcpServer.Stop"/> is).</param>
    /// <returns><see langword="true"/> when everything had closed in time; <see langword="false"/> when the timeout
    /// or a second signal cut the stop short with registrations left.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public bool Wait(ReactorGroup group, Action stopping)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(stopping);
        Token.WaitHandle.WaitOne();
        var clock = Stopwatch.StartNew();
        stopping();
        while (!IsIdle(group))
        {
            TimeSpan left = Timeout - clock.Elapsed;
            if (left <= TimeSpan.Zero || _hurry.IsCancellationRequested)
            {
                return false;
            }

            _hurry.Token.WaitHandle.WaitOne(left < CheckPeriod ? left : CheckPeriod);
        }

        return true;
    }

    /// <summary>Stops catching the signals: from now on they take their default action (ending the process).</summary>
    public void Dispose()
    {
        _sigint?.Dispose();
        _sigterm?.Dispose();
    }

    private static bool IsIdle(ReactorGroup group)
    {
        foreach (Reactor reactor in group.Reactors)
        {
            if (reactor.RegistrationCount != 0)
            {
                return false;
            }
        }

        return true;
    }

    private void OnSignal(PosixSignalContext context)
    {
        // Cancel the default action (ending the process, exit 130 or 143) in favour of the graceful stop.
        context.Cancel = true;
        Request();
    }

    /// <summary>One <see cref="Run"/>'s stop: started by the request on any thread, carried out on the reactor thread.</summary>
    private sealed class ReactorStop(Reactor reactor, Action stopping, CancellationTokenSource loopEnd, TimeSpan timeout)
    {
        private IDisposable? _check;

        /// <summary>On the requesting thread (or the caller of Run, when the request came first).</summary>
        public void Begin()
        {
            try
            {
                loopEnd.CancelAfter(timeout);
                reactor.Post(static stop => stop.StopOnReactor(), this);
            }
            catch (ObjectDisposedException)
            {
                // Expected when the request comes as Run returns: the reactor (or the loop's token) is gone already.
            }
        }

        public void End() => _check?.Dispose();

        private void StopOnReactor()
        {
            try
            {
                stopping();
            }
            finally
            {
                // Even when the callback threw: what it did stop still gets its time to close.
                _check = reactor.SchedulePeriodic(CheckPeriod, Check);
                Check();
            }
        }

        private void Check()
        {
            if (reactor.RegistrationCount == 0)
            {
                loopEnd.Cancel();
            }
        }
    }
}
