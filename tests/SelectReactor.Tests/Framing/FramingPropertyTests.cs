using System;
using System.Collections.Generic;
using System.Linq;
using CsCheck;
using SelectReactor.Net;

namespace SelectReactor.Tests.Framing;

/// <summary>
/// The promise of every decoder behind <see cref="FramedConnectionHandler"/>: however the input is split into reads
/// (in one piece, at every byte boundary, a byte at a time, at random), the same frames come out, in order, and
/// nothing stays buffered once the input ends on a frame boundary. Frames that arrive whole come without a copy.
/// </summary>
public sealed class FramingPropertyTests : IDisposable
{
    private const int Iterations = 150;
    private static readonly Gen<int[]> AnySplits = Gen.Int[1, 24].Array[1, 16];

    private readonly SwitchHandler _switch = new();
    private readonly DirectConnection _direct;

    public FramingPropertyTests()
    {
        _direct = new DirectConnection(_switch);
    }

    [Fact]
    public void Lines_AnySplit_YieldsTheSameLines()
    {
        FrameDecoder decoder = FrameDecoder.Lines(40);
        Gen<byte[]> line = Gen.OneOf((byte)'a', (byte)'\r', (byte)'b', (byte)0).Array[0, 40]
            .Where(l => l.Length == 0 || l[^1] != (byte)'\r');
        Gen<Case> cases = Gen.Select(line, Gen.Bool).Array[0, 12].Select(lines => new Case(
            decoder,
            lines.SelectMany(l => l.Item1.Concat(l.Item2 ? "\r\n"u8.ToArray() : "\n"u8.ToArray())).ToArray(),
            lines.Select(l => l.Item1).ToArray()));

        Gen.Select(cases, AnySplits).Sample(c => Check(c.Item1, c.Item2), iter: Iterations, threads: 1, print: c => c.Item1.ToString());
    }

    [Fact]
    public void Delimited_AnySplit_YieldsTheSameFrames()
    {
        byte[] delimiter = [1, 2, 1];
        FrameDecoder decoder = FrameDecoder.Delimited(delimiter, 30);

        // Frames made of the delimiter's own bytes, so partial delimiters straddle every boundary; a frame qualifies
        // when the first delimiter after its start is its own.
        Gen<byte[]> frame = Gen.Byte[1, 3].Array[0, 30].Where(f => f.Concat(delimiter).ToArray().AsSpan().IndexOf(delimiter) == f.Length);
        Gen<Case> cases = frame.Array[0, 12].Select(frames => new Case(decoder, frames.SelectMany(f => f.Concat(delimiter)).ToArray(), frames));

        Gen.Select(cases, AnySplits).Sample(c => Check(c.Item1, c.Item2), iter: Iterations, threads: 1, print: c => c.Item1.ToString());
    }

    [Fact]
    public void LengthField_AnyLayoutAndSplit_YieldsTheSameFrames()
    {
        Gen<Case> cases =
            from size in Gen.OneOf(1, 2, 4, 8)
            from bigEndian in Gen.Bool
            from offset in Gen.Int[0, 3]
            from adjustment in Gen.Int[-size - offset, 3]
            from strip in Gen.Bool
            from bodies in Gen.Byte.Array[Math.Max(0, adjustment), 40].Array[0, 10]
            select LengthFieldCase(size, bigEndian, offset, adjustment, strip, bodies);

        Gen.Select(cases, AnySplits).Sample(c => Check(c.Item1, c.Item2), iter: Iterations, threads: 1, print: c => c.Item1.ToString());
    }

    [Fact]
    public void FixedLength_AnySplit_YieldsTheSameFrames()
    {
        Gen<Case> cases =
            from length in Gen.Int[1, 9]
            from frames in Gen.Byte.Array[length, length].Array[0, 20]
            select new Case(FrameDecoder.FixedLength(length), frames.SelectMany(f => f).ToArray(), frames);

        Gen.Select(cases, AnySplits).Sample(c => Check(c.Item1, c.Item2), iter: Iterations, threads: 1, print: c => c.Item1.ToString());
    }

    public void Dispose() => _direct.Dispose();

    private static Case LengthFieldCase(int size, bool bigEndian, int offset, int adjustment, bool strip, byte[][] bodies)
    {
        // The field's value plus the adjustment is what follows the field; the offset bytes come before it.
        FrameDecoder decoder = FrameDecoder.LengthField(size, 64, bigEndian, offset, adjustment, strip);
        var wire = new List<byte>();
        var expected = new List<byte[]>();
        foreach (byte[] body in bodies)
        {
            byte[] prefix = Enumerable.Repeat((byte)0xEE, offset).ToArray();
            byte[] frame = [.. prefix, .. FrameDecoderTests.Header(size, bigEndian, (ulong)(body.Length - adjustment)), .. body];
            if (size == 1 && body.Length - adjustment > 255)
            {
                continue;
            }

            wire.AddRange(frame);
            expected.Add(strip ? body : frame);
        }

        return new Case(decoder, wire.ToArray(), expected.ToArray(), $"size {size} {(bigEndian ? "BE" : "LE")} offset {offset} adjustment {adjustment} strip {strip}");
    }

    private void Check(Case c, int[] randomSizes)
    {
        // In one piece: every frame handed over in place, no buffer taken.
        RecordingFramedHandler whole = Run(c, [c.Wire]);
        whole.MaxCapacitySeen.Should().Be(0, "frames that arrive whole are handed over without a copy");

        // At every byte boundary.
        for (int k = 0; k <= c.Wire.Length; k++)
        {
            Run(c, [c.Wire[..k], c.Wire[k..]]);
        }

        // A byte at a time, and in random pieces.
        Run(c, c.Wire.Select(b => new[] { b }));
        Run(c, Pieces(c.Wire, randomSizes));
    }

    private RecordingFramedHandler Run(Case c, IEnumerable<byte[]> chunks)
    {
        var handler = new RecordingFramedHandler(c.Decoder);
        _switch.Inner = handler;

        _direct.Feed(chunks);

        // Compared by hand: this runs hundreds of thousands of times, too often for an equivalency assertion.
        bool same = handler.Frames.Count == c.Expected.Length
            && handler.Frames.Zip(c.Expected).All(p => p.First.AsSpan().SequenceEqual(p.Second));
        if (!same || handler.BufferedBytes != 0 || handler.BufferCapacity != 0 || !_direct.Connection.IsOpen)
        {
            handler.Frames.Should().BeEquivalentTo(c.Expected, o => o.WithStrictOrdering(), c.ToString());
            handler.BufferedBytes.Should().Be(0);
            handler.BufferCapacity.Should().Be(0, "the pending buffer goes back as soon as no partial frame is left");
            _direct.Connection.IsOpen.Should().BeTrue();
        }
        return handler;
    }

    private static IEnumerable<byte[]> Pieces(byte[] wire, int[] sizes)
    {
        int at = 0;
        for (int i = 0; at < wire.Length; i++)
        {
            int n = Math.Min(sizes[i % sizes.Length], wire.Length - at);
            yield return wire[at..(at + n)];
            at += n;
        }
    }

    internal sealed record Case(FrameDecoder Decoder, byte[] Wire, byte[][] Expected, string Description = "")
    {
        public override string ToString() => $"{Description} wire [{string.Join(",", Wire)}] -> {Expected.Length} frames";
    }
}
