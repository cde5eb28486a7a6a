using System.Collections.Generic;
using System.Diagnostics.Metrics;

namespace SelectReactor;

/// <summary>
/// The library's instruments, on one process-wide <see cref="Meter"/> named <see cref="ReactorMeter.Name"/>, named after
/// OpenTelemetry conventions. Every call site checks <c>Enabled</c> first, so with nothing listening a measurement
/// costs one field read: no timestamps, no tags, no allocation.
/// </summary>
internal static class ReactorMetrics
{
    public const string MeterName = ReactorMeter.Name;

    /// <summary>The tag that names the reactor a measurement came from.</summary>
    public const string ReactorTag = ReactorMeter.ReactorNameTag;

    /// <summary>The tag that gives a connection's close reason.</summary>
    public const string CloseReasonTag = ReactorMeter.CloseReasonTag;

    public static readonly Meter Meter = new(MeterName, typeof(ReactorMetrics).Assembly.GetName().Version?.ToString());

    public static readonly Counter<long> Ticks = Meter.CreateCounter<long>(
        "selectreactor.reactor.ticks", "{tick}", "Turns of the reactor loop.");

    // Explicit bucket boundaries, in seconds: exporters' defaults (0, 5, 10, 25 ... 10,000) suit milliseconds and
    // would put every select and dispatch in the first bucket. A select waits from microseconds (work ready) up to
    // MaxSelectTimeout (1 s by default); a dispatch takes microseconds, more when a handler is slow.
    public static readonly Histogram<double> SelectDuration = Meter.CreateHistogram(
        "selectreactor.reactor.select.duration",
        "s",
        "Time spent waiting in Socket.Select.",
        tags: null,
        new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5] });

    public static readonly Histogram<double> DispatchDuration = Meter.CreateHistogram(
        "selectreactor.reactor.dispatch.duration",
        "s",
        "Time spent dispatching readiness callbacks after a select.",
        tags: null,
        new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.000001, 0.000005, 0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 1] });

    public static readonly Counter<long> Callbacks = Meter.CreateCounter<long>(
        "selectreactor.reactor.callbacks", "{callback}", "Callbacks run: readiness, OnClosed, posted actions and timers.");

    public static readonly UpDownCounter<long> ActiveRegistrations = Meter.CreateUpDownCounter<long>(
        "selectreactor.reactor.registrations.active", "{registration}", "Registrations active or queued.");

    public static readonly Counter<long> DeadSockets = Meter.CreateCounter<long>(
        "selectreactor.reactor.dead_sockets", "{socket}", "Dead sockets found by the probe and evicted.");

    public static readonly Counter<long> HandlerFaults = Meter.CreateCounter<long>(
        "selectreactor.reactor.handler_faults", "{fault}", "Handler callbacks that threw.");

    public static readonly Counter<long> ConnectionsOpened = Meter.CreateCounter<long>(
        "selectreactor.connections.opened", "{connection}", "Connections established (accepted or connected).");

    public static readonly Counter<long> ConnectionsClosed = Meter.CreateCounter<long>(
        "selectreactor.connections.closed", "{connection}", "Connections ended, by close reason.");

    public static readonly Counter<long> ConnectionsRejected = Meter.CreateCounter<long>(
        "selectreactor.connections.rejected", "{connection}", "Accepted connections closed at once because the server was at MaxConnections.");

    public static readonly Counter<long> BytesReceived = Meter.CreateCounter<long>(
        "selectreactor.connections.bytes_received", "By", "Bytes received by connections.");

    public static readonly Counter<long> BytesSent = Meter.CreateCounter<long>(
        "selectreactor.connections.bytes_sent", "By", "Bytes handed to the operating system by connections.");

    public static readonly UpDownCounter<long> PendingSendBytes = Meter.CreateUpDownCounter<long>(
        "selectreactor.connections.pending_send_bytes", "By", "Bytes queued by connections and not yet sent.");

    public static readonly Counter<long> AcceptBackoffs = Meter.CreateCounter<long>(
        "selectreactor.tcp_server.accept_backoffs", "{backoff}", "Times a listener paused because accept ran out of descriptors or buffers.");

    public static KeyValuePair<string, object?> Reactor(string name) => new(ReactorTag, name);
}
