using System;
using System.IO;
using System.Net.Sockets;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Net;

/// <summary>
/// A server on a Unix socket path only ever removes a socket file nobody listens on, and at Stop only the file its own
/// bind created: whatever else is at the path is refused like bind's EADDRINUSE and left untouched.
/// </summary>
public sealed class UnixSocketPathTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sr-unix-").FullName;
    private readonly RunningReactor _running = new();

    public void Dispose()
    {
        _running.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public void RegularFileAtThePath_StartIsRefusedAndTheFileIsKept()
    {
        string path = Path.Combine(_directory, "data.txt");
        File.WriteAllText(path, "precious");
        var server = NewServer(path);

        SocketException refused = server.Invoking(s => s.Start()).Should().Throw<SocketException>().Which;

        refused.SocketErrorCode.Should().Be(SocketError.AddressAlreadyInUse);
        refused.Message.Should().Contain(path).And.Contain("regular file");
        File.ReadAllText(path).Should().Be("precious");
    }

    [Fact]
    public void DirectoryAtThePath_StartIsRefusedAndTheDirectoryIsKept()
    {
        string path = Path.Combine(_directory, "subdirectory");
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, "inside"), "x");
        var server = NewServer(path);

        server.Invoking(s => s.Start()).Should().Throw<SocketException>()
            .Which.Message.Should().Contain(path).And.Contain("directory");

        File.Exists(Path.Combine(path, "inside")).Should().BeTrue();
    }

    [Fact]
    public void SymbolicLinkAtThePath_IsNotFollowedAndNeitherLinkNorTargetIsTouched()
    {
        string target = Path.Combine(_directory, "stale.sock");
        LeaveStaleSocketFile(target); // even a link to a stale socket: the link is what is at the path
        string path = Path.Combine(_directory, "link.sock");
        File.CreateSymbolicLink(path, target);
        var server = NewServer(path);

        server.Invoking(s => s.Start()).Should().Throw<SocketException>()
            .Which.Message.Should().Contain(path).And.Contain("symbolic link");

        new FileInfo(path).LinkTarget.Should().Be(target);
        File.Exists(target).Should().BeTrue();
    }

    [Fact]
    public void LiveListenersSocketAtThePath_StartIsRefusedAndThatListenerKeepsWorking()
    {
        string path = Path.Combine(_directory, "live.sock");
        using var live = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        live.Bind(new UnixDomainSocketEndPoint(path));
        live.Listen(4);
        var server = NewServer(path);

        server.Invoking(s => s.Start()).Should().Throw<SocketException>()
            .Which.Message.Should().Contain(path).And.Contain("listening");

        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        client.Connect(new UnixDomainSocketEndPoint(path));
        using Socket accepted = live.Accept();
        accepted.Should().NotBeNull();
    }

    [Fact]
    public void StaleSocketFileAtThePath_IsReplacedAndServed()
    {
        string path = Path.Combine(_directory, "stale.sock");
        LeaveStaleSocketFile(path);
        var server = NewServer(path);

        server.Start();

        using (var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            client.ReceiveTimeout = (int)Wait.Generous.TotalMilliseconds;
            client.Connect(new UnixDomainSocketEndPoint(path));
            client.Send(new byte[] { 7 });
            SocketIo.ReceiveExactly(client, 1).Should().Equal(7);
        }

        server.Stop();
        Wait.For(server.Completion);
    }

    [Fact]
    public void Stop_RemovesTheSocketFileItsBindCreated()
    {
        string path = Path.Combine(_directory, "own.sock");
        var server = NewServer(path);
        server.Start();
        File.Exists(path).Should().BeTrue();

        server.Stop();

        Wait.For(server.Completion);
        Wait.Until(() => !File.Exists(path), "the server removed its own socket file");
    }

    [Fact]
    public void Stop_AfterTheFileWasReplaced_LeavesTheNewFileAlone()
    {
        string path = Path.Combine(_directory, "replaced.sock");
        var server = NewServer(path);
        server.Start();
        File.Delete(path);
        File.WriteAllText(path, "someone else's");

        server.Stop();

        Wait.For(server.Completion);
        _running.Invoke(() => 0); // the stop ran on the reactor thread before this returns
        File.ReadAllText(path).Should().Be("someone else's");
    }

    private TcpServer NewServer(string path) =>
        new(_running.Reactor, new UnixDomainSocketEndPoint(path), () => new TestEchoHandler());

    /// <summary>
    /// What a process that died leaves behind: the socket file, with nobody listening. (Socket.Dispose would delete
    /// the file, so the descriptor is closed through its handle, as the kernel does for a killed process.)
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA1816", Justification = "On purpose: the finalizer would delete the file this leaves behind.")]
    private static void LeaveStaleSocketFile(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        socket.Listen(1);
        socket.SafeHandle.Dispose();
        GC.SuppressFinalize(socket);
    }
}
