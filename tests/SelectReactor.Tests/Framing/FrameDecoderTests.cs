using System;
using System.Buffers.Binary;
using System.Text;
using SelectReactor.Net;

namespace SelectReactor.Tests.Framing;

/// <summary>The ready-made decoders, one call at a time: boundaries, limits and malformed headers.</summary>
public sealed class FrameDecoderTests
{
    [Theory]
    [InlineData("hello\n", "hello", 6)]
    [InlineData("hello\r\n", "hello", 7)]
    [InlineData("\n", "", 1)]
    [InlineData("\r\n", "", 2)]
    [InlineData("a\rb\nrest", "a\rb", 4)]
    public void Lines_WholeLine_IsCompleteWithoutItsDelimiter(string input, string expected, int expectedConsumed)
    {
        FrameDecoder decoder = FrameDecoder.Lines(16);
        int examined = 0;

        FrameStatus status = decoder.Decode(Encoding.ASCII.GetBytes(input), ref examined, out Range frame, out int consumed);

        status.Should().Be(FrameStatus.Complete);
        Encoding.ASCII.GetString(Encoding.ASCII.GetBytes(input)[frame]).Should().Be(expected);
        consumed.Should().Be(expectedConsumed);
    }

    [Fact]
    public void Lines_NoLineFeed_IsIncompleteAndRemembersWhatItExamined()
    {
        FrameDecoder decoder = FrameDecoder.Lines(16);
        int examined = 0;

        FrameStatus status = decoder.Decode("abc\r"u8, ref examined, out _, out _);

        status.Should().Be(FrameStatus.Incomplete);
        examined.Should().Be(4);
    }

    [Fact]
    public void Lines_MaximumLengthWithCrlf_IsAcceptedAndOneMoreIsTooLarge()
    {
        FrameDecoder decoder = FrameDecoder.Lines(4);
        int examined = 0;

        decoder.Decode("abcd\r"u8, ref examined, out _, out _).Should().Be(FrameStatus.Incomplete);
        examined = 0;
        decoder.Decode("abcd\r\n"u8, ref examined, out Range frame, out _).Should().Be(FrameStatus.Complete);
        frame.GetOffsetAndLength(6).Length.Should().Be(4);
        examined = 0;
        decoder.Decode("abcde\n"u8, ref examined, out _, out _).Should().Be(FrameStatus.TooLarge);
        examined = 0;
        decoder.Decode("abcdef"u8, ref examined, out _, out _).Should().Be(FrameStatus.TooLarge);
        decoder.MaxBufferedLength.Should().Be(5);
    }

    [Fact]
    public void Delimited_DelimiterAcrossTheExaminedBoundary_IsFound()
    {
        FrameDecoder decoder = FrameDecoder.Delimited("\r\n\r\n"u8, 100);
        int examined = 0;

        decoder.Decode("head\r\n\r"u8, ref examined, out _, out _).Should().Be(FrameStatus.Incomplete);
        FrameStatus status = decoder.Decode("head\r\n\r\nbody"u8, ref examined, out Range frame, out int consumed);

        status.Should().Be(FrameStatus.Complete);
        frame.GetOffsetAndLength(consumed).Should().Be((0, 4));
        consumed.Should().Be(8);
    }

    [Fact]
    public void Delimited_LongerThanTheMaximum_IsTooLarge()
    {
        FrameDecoder decoder = FrameDecoder.Delimited("||"u8, 3);
        int examined = 0;

        decoder.Decode("abc||"u8, ref examined, out _, out _).Should().Be(FrameStatus.Complete);
        examined = 0;
        decoder.Decode("abcd||"u8, ref examined, out _, out _).Should().Be(FrameStatus.TooLarge);
        examined = 0;
        decoder.Decode("abc|"u8, ref examined, out _, out _).Should().Be(FrameStatus.Incomplete);
        examined = 0;
        decoder.Decode("abcd|"u8, ref examined, out _, out _).Should().Be(FrameStatus.TooLarge);
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(2, false)]
    [InlineData(4, true)]
    [InlineData(4, false)]
    [InlineData(8, true)]
    [InlineData(8, false)]
    public void LengthField_EverySizeAndByteOrder_ReadsTheBody(int size, bool bigEndian)
    {
        FrameDecoder decoder = FrameDecoder.LengthField(size, 64, bigEndian);
        byte[] wire = Header(size, bigEndian, 3);
        wire = [.. wire, 7, 8, 9, 10];
        int examined = 0;

        FrameStatus status = decoder.Decode(wire, ref examined, out Range frame, out int consumed);

        status.Should().Be(FrameStatus.Complete);
        wire[frame].Should().Equal(7, 8, 9);
        consumed.Should().Be(size + 3);
    }

    [Fact]
    public void LengthField_OffsetAdjustmentAndKeptHeader_FollowNettysSemantics()
    {
        // A 2-byte magic, then a 2-byte length that counts itself and the magic too (adjustment -4), header kept.
        FrameDecoder decoder = FrameDecoder.LengthField(2, 64, bigEndian: true, lengthFieldOffset: 2, lengthAdjustment: -4, stripHeader: false);
        byte[] wire = [0xCA, 0xFE, 0, 7, 1, 2, 3, 99];
        int examined = 0;

        FrameStatus status = decoder.Decode(wire, ref examined, out Range frame, out int consumed);

        status.Should().Be(FrameStatus.Complete);
        consumed.Should().Be(7);
        wire[frame].Should().Equal(0xCA, 0xFE, 0, 7, 1, 2, 3);
    }

    [Fact]
    public void LengthField_HugeDeclaredLength_IsTooLargeFromTheHeaderAlone()
    {
        FrameDecoder decoder = FrameDecoder.LengthField(8, 1024);
        int examined = 0;

        decoder.Decode([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], ref examined, out _, out _).Should().Be(FrameStatus.TooLarge);
        decoder.Decode([0, 0, 0, 0, 0, 0, 4, 0], ref examined, out _, out _).Should().Be(FrameStatus.TooLarge, "1024 bytes of body plus 8 of header pass 1024");
        decoder.Decode([0, 0, 0, 0, 0, 0, 3, 0xF8], ref examined, out _, out _).Should().Be(FrameStatus.Incomplete, "exactly 1024 bytes on the wire is allowed");
    }

    [Fact]
    public void LengthField_AdjustmentBelowZero_IsInvalid()
    {
        FrameDecoder decoder = FrameDecoder.LengthField(1, 64, lengthAdjustment: -2);
        int examined = 0;

        decoder.Decode([1, 0, 0], ref examined, out _, out _).Should().Be(FrameStatus.Invalid);
    }

    [Fact]
    public void FixedLength_CutsExactly()
    {
        FrameDecoder decoder = FrameDecoder.FixedLength(3);
        int examined = 0;

        decoder.Decode([1, 2], ref examined, out _, out _).Should().Be(FrameStatus.Incomplete);
        decoder.Decode([1, 2, 3, 4], ref examined, out Range frame, out int consumed).Should().Be(FrameStatus.Complete);
        frame.GetOffsetAndLength(consumed).Should().Be((0, 3));
    }

    [Fact]
    public void Factories_BadArguments_Throw()
    {
        FluentActions.Invoking(() => FrameDecoder.Lines(0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => FrameDecoder.Delimited([], 10)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => FrameDecoder.LengthField(3, 10)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*1, 2, 4 or 8*");
        FluentActions.Invoking(() => FrameDecoder.LengthField(4, 3)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => FrameDecoder.LengthField(4, 10, lengthFieldOffset: -1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => FrameDecoder.FixedLength(0)).Should().Throw<ArgumentOutOfRangeException>();
    }

    internal static byte[] Header(int size, bool bigEndian, ulong value)
    {
        byte[] header = new byte[size];
        switch (size)
        {
            case 1:
                header[0] = (byte)value;
                break;
            case 2:
                if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(header, (ushort)value); else BinaryPrimitives.WriteUInt16LittleEndian(header, (ushort)value);
                break;
            case 4:
                if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(header, (uint)value); else BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)value);
                break;
            default:
                if (bigEndian) BinaryPrimitives.WriteUInt64BigEndian(header, value); else BinaryPrimitives.WriteUInt64LittleEndian(header, value);
                break;
        }

        return header;
    }
}
