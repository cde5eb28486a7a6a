using System.Collections.Generic;
using System.Diagnostics.Metrics;

namespace SelectReactor.Tests.Diagnostics;

/// <summary>The public meter name, and histogram buckets that fit durations measured in seconds.</summary>
public sealed class MeterAdviceTests
{
    [Fact]
    public void DurationHistograms_AreOnThePubliclyNamedMeter_WithBucketsFromMicrosecondsToSeconds()
    {
        foreach (Histogram<double> histogram in new[] { ReactorMetrics.SelectDuration, ReactorMetrics.DispatchDuration })
        {
            histogram.Meter.Name.Should().Be(ReactorMeter.Name).And.Be("SelectReactor");
            histogram.Unit.Should().Be("s");
            IReadOnlyList<double>? buckets = histogram.Advice?.HistogramBucketBoundaries;
            buckets.Should().NotBeNull().And.BeInAscendingOrder().And.Contain(0.00001).And.Contain(0.001).And.Contain(1);
        }
    }
}
