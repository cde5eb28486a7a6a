using System;
using System.Buffers.Binary;
using SelectReactor.Net;

namespace SelectReactor.Net;

/// <summary>
/// Frames announced by an unsigned length field (Netty's semantics: the frame is the header, then the field's value
/// plus the adjustment). The declared length is checked against the maximum in 128-bit arithmetic, so no value of
/// an 8-byte field can overflow into a small one.
/// </summary>
internal sealed class LengthFieldDecoder(int fieldSize, int maxLength, bool bigEndian, int fieldOffset, int adjustment, bool stripHeader)
    : FrameDecoder(maxLength)
{
    private readonly int _headerLength = fieldOffset + fieldSize;

    public override FrameStatus Decode(ReadOnlySpan<byte> buffered, ref int examined, out Range frame, out int consumed)
    {
        frame = default;
        consumed = 0;
        if (buffered.Length < _headerLength)
        {
            return FrameStatus.Incomplete;
        }

        ReadOnlySpan<byte> field = buffered.Slice(fieldOffset, fieldSize);
        ulong declared = fieldSize switch
        {
            1 => field[0],
            2 => bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(field) : BinaryPrimitives.ReadUInt16LittleEndian(field),
            4 => bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(field) : BinaryPrimitives.ReadUInt32LittleEndian(field),
            _ => bigEndian ? BinaryPrimitives.ReadUInt64BigEndian(field) : BinaryPrimitives.ReadUInt64LittleEndian(field),
        };

        Int128 total = (Int128)_headerLength + declared + adjustment;
        if (total < _headerLength)
        {
            return FrameStatus.Invalid; // the adjustment made the body negative
        }

        if (total > MaxBufferedLength)
        {
            return FrameStatus.TooLarge;
        }

        int length = (int)total;
        if (buffered.Length < length)
        {
            return FrameStatus.Incomplete;
        }

        frame = new Range(stripHeader ? _headerLength : 0, length);
        consumed = length;
        return FrameStatus.Complete;
    }
}
