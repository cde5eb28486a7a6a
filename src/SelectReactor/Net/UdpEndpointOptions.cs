using System;

namespace SelectReactor.Net;

/// <summary>Settings for a <see cref="UdpEndpoint"/>. Read when it starts.</summary>
public sealed class UdpEndpointOptions
{
    private int _maxDatagramSize = 65_507;
    private int _maxDatagramsPerReadiness = 64;

    /// <summary>The largest datagram received whole; larger ones are truncated and reported. Default 65,507 (the most IPv4 UDP carries); 1 to 65,535.</summary>
    public int MaxDatagramSize
    {
        get => _maxDatagramSize;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 65_535);
            _maxDatagramSize = value;
        }
    }

    /// <summary>The most datagrams read per readiness, so one busy endpoint cannot starve the loop. Default 64; 1 to 4,096.</summary>
    public int MaxDatagramsPerReadiness
    {
        get => _maxDatagramsPerReadiness;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 4096);
            _maxDatagramsPerReadiness = value;
        }
    }
}
