using System;

namespace SelectReactor.Net;

/// <summary>
/// Follows TLS record framing over the ciphertext as it arrives, so that a header no TLS peer could send (garbage,
/// plaintext sent to a TLS port, a record longer than the protocol allows) fails the connection at once instead of
/// leaving <c>SslStream</c> waiting for up to 64 KiB of a record that can never be valid, and so that a stream that
/// ends in the middle of a record is known to be truncated. Costs a few comparisons per record header. Reactor thread only.
/// </summary>
internal struct TlsRecordFraming
{
    /// <summary>
    /// The longest record body a peer may send: 2^14 + 2048 (RFC 5246 6.2.3, TLSCiphertext; TLS 1.3 allows only
    /// 2^14 + 256, RFC 8446 5.2).
    /// </summary>
    public const int MaxRecordLength = (1 << 14) + 2048;

    private int _remaining;
    private int _headerRead;
    private byte _type;
    private byte _lengthHigh;
    private bool _unframed;
    private bool _started;

    /// <summary><see langword="true"/> while a record has begun but not ended: a stream that ends now is truncated.</summary>
    public readonly bool MidRecord => !_unframed && (_remaining > 0 || _headerRead > 0);

    /// <summary>
    /// Follows <paramref name="data"/>, the next bytes of the stream. Returns <see langword="null"/>, or why the
    /// stream cannot be TLS (the connection should fail).
    /// </summary>
    public string? Check(ReadOnlySpan<byte> data)
    {
        if (!_started && !data.IsEmpty)
        {
            _started = true;

            // An SSL 2.0-format ClientHello (the high bit of its first byte set) has a framing of its own: SslStream
            // judges it, and this check stays out of a stream it cannot follow.
            _unframed = (data[0] & 0x80) != 0;
        }

        if (_unframed)
        {
            return null;
        }

        while (!data.IsEmpty)
        {
            if (_remaining > 0)
            {
                int skip = Math.Min(_remaining, data.Length);
                _remaining -= skip;
                data = data[skip..];
                continue;
            }

            byte b = data[0];
            data = data[1..];
            switch (_headerRead++)
            {
                case 0:
                    _type = b;
                    if (b is < 20 or > 24)
                    {
                        return $"The peer sent bytes that are not a TLS record (content type {b}).";
                    }

                    break;
                case 1:
                    if (b != 3)
                    {
                        return $"The peer sent a TLS record of an unknown version ({b}.x).";
                    }

                    break;
                case 3:
                    _lengthHigh = b;
                    break;
                case 4:
                    int length = (_lengthHigh << 8) | b;
                    _headerRead = 0;
                    if (length > MaxRecordLength)
                    {
                        return $"The peer sent a TLS record of {length} bytes (type {_type}); the most TLS allows is {MaxRecordLength}.";
                    }

                    _remaining = length;
                    break;
            }
        }

        return null;
    }
}
