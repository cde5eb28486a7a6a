using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;
using SelectReactor.Tests.Net;

namespace SelectReactor.Tests.Diagnostics;

/// <summary>The instruments of the "SelectReactor" meter, read with a real <see cref="MeterListener"/>.</summary>
[Collection(SerialCollection.Name)]
public sealed class MetricsTests
{
    [Fact]
    public void Reactor_TicksCallbacksRegistrationsDeadSocketsAndFaults_AreMeasuredPerReactor()
    {
        string name = $"metrics-{Guid.NewGuid():N}";
        using var recorder = new MetricsRecorder(name);
        using var reactor = new Reactor(new ReactorOptions { Name = name });
        using SocketPair dying = Loopback.Pair();
        using SocketPair faulty = Loopback.Pair();
        reactor.Register(dying.Server, new RecordingHandler(), Interest.Read);
        reactor.Register(faulty.Server, new RecordingHandler { Writable = _ => throw new InvalidOperationException("boom") }, Interest.Write);
        reactor.Post(() => { });

        reactor.RunOnce(TimeSpan.Zero);
        dying.Server.Dispose();
        reactor.RunOnce(TimeSpan.Zero);

        recorder.Sum("selectreactor.reactor.ticks").Should().Be(2);
        recorder.Sum("selectreactor.reactor.callbacks").Should().Be(4, "a post, a writable, and two OnClosed");
        recorder.Sum("selectreactor.reactor.registrations.active").Should().Be(0, "two registered, two closed");
        recorder.Sum("selectreactor.reactor.dead_sockets").Should().Be(1);
        recorder.Sum("selectreactor.reactor.handler_faults").Should().Be(1);
        recorder.Count("selectreactor.reactor.select.duration").Should().Be(2);
        recorder.Count("selectreactor.reactor.dispatch.duration").Should().Be(2);
    }

    [Fact]
    public void Connections_OpenedClosedRejectedAndBytes_AreMeasured()
    {
        string name = $"metrics-{Guid.NewGuid():N}";
        using var recorder = new MetricsRecorder(name);
        var handler = new TestEchoHandler();
        using var harness = new ServerHarness(() => handler, new TcpServerOptions { MaxConnections = 1 }, reactorOptions: new ReactorOptions { Name = name });
        using (Socket client = harness.Connect())
        {
            client.Send(new byte[300_000]);
            client.Shutdown(SocketShutdown.Send);
            SocketIo.ReceiveToEnd(client).Length.Should().Be(300_000);
        }

        Wait.Until(() => handler.Closes.Count == 1, "the first connection closed");
        using Socket second = harness.Connect();
        using Socket third = harness.Connect();
        Wait.Until(() => harness.Server.RejectedCount == 1, "the third was rejected");

        recorder.Sum("selectreactor.connections.opened").Should().Be(2);
        recorder.Sum("selectreactor.connections.closed", ReactorMetricsTag.CloseReason, "RemoteClose").Should().Be(1);
        recorder.Sum("selectreactor.connections.rejected").Should().Be(1);
        recorder.Sum("selectreactor.connections.bytes_received").Should().Be(300_000);
        recorder.Sum("selectreactor.connections.bytes_sent").Should().Be(300_000);
        recorder.Sum("selectreactor.connections.pending_send_bytes").Should().Be(0, "whatever was queued was sent");
    }

    [Fact]
    public void Meter_IsNamedSelectReactorAndInstrumentsFollowOpenTelemetryNaming()
    {
        using var recorder = new MetricsRecorder("none");

        recorder.Instruments.Should().NotBeEmpty();
        recorder.Instruments.Should().OnlyContain(i => i.Meter.Name == "SelectReactor");
        recorder.Instruments.Select(i => i.Name).Should().OnlyContain(n => n.StartsWith("selectreactor.", StringComparison.Ordinal) && !n.Any(char.IsUpper));
        recorder.Instruments.Should().OnlyContain(i => !string.IsNullOrEmpty(i.Unit) && !string.IsNullOrEmpty(i.Description));
    }
}

internal static class ReactorMetricsTag
{
    public const string CloseReason = "selectreactor.connection.close_reason";
}

/// <summary>Records the measurements of one reactor (by its name tag) from the SelectReactor meter.</summary>
internal sealed class MetricsRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, double Value, KeyValuePair<string, object?>[] Tags)> _measurements = new();

    public MetricsRecorder(string reactorName)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "SelectReactor")
            {
                Instruments.Add(instrument);
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(reactorName, instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(reactorName, instrument, value, tags));
        _listener.Start();
    }

    public ConcurrentBag<Instrument> Instruments { get; } = new();

    public double Sum(string instrument, string? tag = null, string? value = null) =>
        Matching(instrument, tag, value).Sum(m => m.Value);

    public int Count(string instrument) => Matching(instrument, null, null).Count();

    public void Dispose() => _listener.Dispose();

    private IEnumerable<(string Instrument, double Value, KeyValuePair<string, object?>[] Tags)> Matching(string instrument, string? tag, string? value) =>
        _measurements.Where(m => m.Instrument == instrument && (tag is null || m.Tags.Any(t => t.Key == tag && (string?)t.Value == value)));

    private void Record(string reactorName, Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        KeyValuePair<string, object?>[] copy = tags.ToArray();
        if (copy.Any(t => t.Key == "selectreactor.reactor.name" && (string?)t.Value == reactorName))
        {
            _measurements.Enqueue((instrument.Name, value, copy));
        }
    }
}
