using System;
using System.Collections.Generic;
using System.Text;

namespace ChatServer;

/// <summary>
/// Who is in the room, and the broadcasts. One instance, shared by every <see cref="ChatHandler"/>; like them it is
/// used only on the reactor thread, so it needs no lock.
/// </summary>
internal sealed class ChatRoom
{
    private readonly Dictionary<string, ChatHandler> _members = new(StringComparer.OrdinalIgnoreCase);

    // Broadcasts walk this snapshot, rebuilt on join and leave: a send that disconnects a slow member must not
    // change the collection being walked.
    private ChatHandler[] _snapshot = [];

    public int Count => _members.Count;

    /// <summary>Adds a member under <paramref name="nick"/>; false when the nickname is taken (case-insensitively).</summary>
    public bool TryJoin(ChatHandler member, string nick)
    {
        if (!_members.TryAdd(nick, member))
        {
            return false;
        }

        _snapshot = Snapshot();

        // Sorted with Array.Sort, not LINQ: LINQ's sort loads another assembly on first use, and when that first use
        // came while the process was out of descriptors the load failed, the runtime remembered the failure, and no
        // one could ever join again. Everything here is in the core library, loaded at startup.
        var names = new string[_members.Count];
        _members.Keys.CopyTo(names, 0);
        Array.Sort(names, StringComparer.OrdinalIgnoreCase);
        member.Send($"* welcome {nick}; online: {string.Join(", ", names)}\n");
        Announce(member, $"* {nick} joined\n");
        return true;
    }

    /// <summary>Removes a member and tells the others, with <paramref name="why"/> when it was not their own doing.</summary>
    public void Leave(string nick, string? why)
    {
        if (_members.Remove(nick))
        {
            _snapshot = Snapshot();
            Announce(null, why is null ? $"* {nick} left\n" : $"* {nick} left ({why})\n");
        }
    }

    /// <summary>Sends "nick: text" to every member but the sender.</summary>
    public void Say(ChatHandler from, string nick, ReadOnlySpan<byte> text)
    {
        // One buffer for everyone: TcpConnection.Send copies only what a member's socket does not take at once.
        byte[] message = new byte[nick.Length + 2 + text.Length + 1];
        int at = Encoding.ASCII.GetBytes(nick, message);
        message[at++] = (byte)':';
        message[at++] = (byte)' ';
        text.CopyTo(message.AsSpan(at));
        message[^1] = (byte)'\n';
        Send(from, message);
    }

    private ChatHandler[] Snapshot()
    {
        var members = new ChatHandler[_members.Count];
        _members.Values.CopyTo(members, 0);
        return members;
    }

    private void Announce(ChatHandler? except, string notice) => Send(except, Encoding.ASCII.GetBytes(notice));

    private void Send(ChatHandler? except, byte[] message)
    {
        foreach (ChatHandler member in _snapshot)
        {
            if (!ReferenceEquals(member, except))
            {
                member.Send(message);
            }
        }
    }
}
