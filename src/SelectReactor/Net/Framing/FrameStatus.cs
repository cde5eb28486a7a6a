namespace SelectReactor.Net;

/// <summary>What <see cref="FrameDecoder.Decode"/> found at the start of the buffered bytes.</summary>
public enum FrameStatus
{
    /// <summary>A whole frame: its range and the bytes it consumed are set.</summary>
    Complete,

    /// <summary>Not a whole frame yet: wait for more bytes.</summary>
    Incomplete,

    /// <summary>The frame is, or would become, longer than the decoder's maximum: the connection closes with <see cref="ConnectionCloseReason.FrameTooLarge"/>.</summary>
    TooLarge,

    /// <summary>The bytes cannot start a valid frame (a negative adjusted length, say): the connection closes with <see cref="ConnectionCloseReason.ProtocolError"/>.</summary>
    Invalid,
}
