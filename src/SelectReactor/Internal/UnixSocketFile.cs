using System;
using System.Diagnostics.CodeAnalysis;
using System.IO;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace SelectReactor;

/// <summary>
/// The file a listening Unix domain socket is bound to. Before binding, only a socket file nobody listens on is
/// removed (one left behind by a process that died); anything else at the path (a regular file, a directory, a
/// symbolic link, which is never followed, a live server's socket) is refused as <c>bind</c> would refuse it, and left
/// untouched. When the listener closes, the file is removed only if it is still the one its bind created.
/// </summary>
/// <remarks>
/// File types and identities come from <c>statx(2)</c> (Linux, glibc 2.28+ or musl 1.2.5+), which .NET does not
/// expose. Where it is unavailable nothing is ever removed: a path that exists is refused, with a message saying why,
/// and the file is left at close.
/// </remarks>
internal sealed class UnixSocketFile
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const uint StatxIno = 0x100;
    private const int Enoent = 2;
    private const int TypeMask = 0xF000;
    private const int TypeSocket = 0xC000;

    private static bool s_statxMissing;

    private readonly string _path;
    private readonly Identity _identity;

    private UnixSocketFile(string path, Identity identity)
    {
        _path = path;
        _identity = identity;
    }

    /// <summary>True for a path in the file system; false for the abstract namespace ("\0name" or "@name").</summary>
    public static bool IsFilePath(UnixDomainSocketEndPoint endPoint)
    {
        string path = endPoint.ToString();
        return path.Length > 0 && path[0] != '\0' && path[0] != '@';
    }

    /// <summary>
    /// Makes way for binding: does nothing when the path is free, removes a socket file nobody listens on, and
    /// refuses anything else.
    /// </summary>
    /// <exception cref="SocketException"><see cref="SocketError.AddressAlreadyInUse"/>, with a message naming the
    /// path and what is there.</exception>
    public static void RemoveIfStale(UnixDomainSocketEndPoint endPoint)
    {
        if (!IsFilePath(endPoint))
        {
            return;
        }

        string path = endPoint.ToString();
        Identity found = Stat(path);
        switch (found.Kind)
        {
            case Kind.Missing:
                return;
            case Kind.Socket:
                break;
            case Kind.Unknown:
                throw Refused(path, "something is there, and this platform cannot tell whether it is a socket file left behind (remove it if it is)");
            default:
                throw Refused(path, $"{Article(found.Kind)} is there; only a socket file that nobody listens on is replaced");
        }

        SocketError probe = Probe(endPoint);
        if (probe != SocketError.ConnectionRefused)
        {
            throw probe is SocketError.Success or SocketError.WouldBlock
                ? Refused(path, "a server is listening on it")
                : Refused(path, $"a socket file is there, and connecting to it to see whether a server listens failed with {probe}");
        }

        // Stale. Checked again just before removing, so a file that replaced it meanwhile is not the one removed.
        if (Stat(path) == found)
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// After binding: the socket file the bind created, to be removed when the listener closes; null for an abstract
    /// address, or when the file's identity cannot be read (it is then left in place, as nothing can be proven).
    /// </summary>
    public static UnixSocketFile? Created(UnixDomainSocketEndPoint endPoint)
    {
        if (!IsFilePath(endPoint))
        {
            return null;
        }

        string path = Path.GetFullPath(endPoint.ToString());
        Identity identity = Stat(path);
        return identity.Kind == Kind.Socket ? new UnixSocketFile(path, identity) : null;
    }

    /// <summary>Closes the listener and removes its socket file, but only while the file at the path is still this one.</summary>
    public void CloseListener(Socket listener)
    {
        // Socket.Dispose deletes the file at the path the socket was bound to, whatever file is there by then (and so
        // would its finalizer): close the descriptor through its handle instead, and decide about the file here.
        listener.SafeHandle.Dispose();
        SuppressFinalizer(listener);
        if (Stat(_path) != _identity)
        {
            return; // replaced (or removed) by someone else since: theirs now
        }

        try
        {
            File.Delete(_path);
        }
        catch (IOException)
        {
            // Best effort: it was removed between the check and the deletion.
        }
        catch (UnauthorizedAccessException)
        {
            // Best effort: the directory no longer lets us remove it.
        }
    }

    [SuppressMessage("Usage", "CA1816", Justification = "On purpose: the socket's finalizer would delete the file at its bound path, whatever file is there by then; its descriptor is already closed.")]
    private static void SuppressFinalizer(Socket listener) => GC.SuppressFinalize(listener);

    private static SocketException Refused(string path, string what) =>
        new((int)SocketError.AddressAlreadyInUse, $"Cannot listen on the Unix socket path '{path}': {what}. It was left as it is.");

    private static string Article(Kind kind) => kind switch
    {
        Kind.RegularFile => "a regular file",
        Kind.Directory => "a directory",
        Kind.SymbolicLink => "a symbolic link (links are not followed)",
        Kind.Fifo => "a FIFO",
        _ => "a device file",
    };

    /// <summary>Connects without blocking: Success or WouldBlock (backlog full) mean a live listener; ConnectionRefused, none.</summary>
    private static SocketError Probe(UnixDomainSocketEndPoint endPoint)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { Blocking = false };
        try
        {
            probe.Connect(endPoint);
            return SocketError.Success;
        }
        catch (SocketException e)
        {
            // Expected: the answer is in the error code.
            return e.SocketErrorCode;
        }
    }

    private static Identity Stat(string path)
    {
        if (!s_statxMissing)
        {
            try
            {
                if (Statx(AtFdCwd, Encoding.UTF8.GetBytes(path + "\0"), AtSymlinkNoFollow, StatxType | StatxIno, out StatxBuffer buffer) == 0)
                {
                    return new Identity(KindOf(buffer.Mode), ((ulong)buffer.DevMajor << 32) | buffer.DevMinor, buffer.Ino);
                }

                return Marshal.GetLastPInvokeError() == Enoent ? default : new Identity(Kind.Unknown, 0, 0);
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
            {
                // Expected off Linux (or on an old C library): fall back to refusing whatever exists.
                s_statxMissing = true;
            }
        }

        return Path.Exists(path) || new FileInfo(path).LinkTarget is not null ? new Identity(Kind.Unknown, 0, 0) : default;
    }

    private static Kind KindOf(ushort mode) => (mode & TypeMask) switch
    {
        TypeSocket => Kind.Socket,
        0x8000 => Kind.RegularFile,
        0x4000 => Kind.Directory,
        0xA000 => Kind.SymbolicLink,
        0x1000 => Kind.Fifo,
        _ => Kind.Device,
    };

    // The path goes as NUL-terminated UTF-8 bytes: no string marshalling to configure, and no unsafe code needed.
    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern int Statx(int dirfd, byte[] path, int flags, uint mask, out StatxBuffer buffer);

    private enum Kind
    {
        Missing,
        Socket,
        RegularFile,
        Directory,
        SymbolicLink,
        Fifo,
        Device,
        Unknown,
    }

    /// <summary>What is at a path: its type and, for telling one file from its replacement, device and inode.</summary>
    private readonly record struct Identity(Kind Kind, ulong Device, ulong Inode);

    /// <summary><c>struct statx</c>: 256 bytes, the same layout on every architecture; only the fields read here.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct StatxBuffer
    {
        [FieldOffset(28)]
        public ushort Mode;

        [FieldOffset(32)]
        public ulong Ino;

        [FieldOffset(136)]
        public uint DevMajor;

        [FieldOffset(140)]
        public uint DevMinor;
    }
}
