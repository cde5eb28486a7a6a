namespace EchoClient;

/// <summary>How each connection generates load.</summary>
internal enum LoadMode
{
    /// <summary>One message in flight per connection: send it, wait until all of it came back, send the next.</summary>
    PingPong,

    /// <summary>Up to a window of bytes in flight per connection, written in message-sized chunks.</summary>
    Stream,
}
