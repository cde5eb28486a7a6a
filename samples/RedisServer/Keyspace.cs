using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace RedisServer;

/// <summary>
/// The one database: values by key (a <c>byte[]</c> for a string, a <see cref="RedisList"/> for a list) and, as in
/// Redis, expiry times in a second dictionary, so keys without a TTL pay nothing for the feature. Expired keys are
/// removed when touched (lazily) and by <see cref="RemoveExpired"/>, which a reactor timer runs ten times a second
/// (Redis's active expiry) from a heap ordered by expiry time. Reactor thread only.
/// </summary>
internal sealed class Keyspace(TimeProvider time)
{
    /// <summary>Most keys one expiry pass removes, so a mass expiry never stalls the loop (the rest wait 100 ms).</summary>
    private const int MaxExpiredPerPass = 20_000;

    private readonly Dictionary<byte[], object> _data = new(ByteKeyComparer.Instance);
    private readonly Dictionary<byte[], long> _expires = new(ByteKeyComparer.Instance);
    private readonly PriorityQueue<byte[], long> _expiryOrder = new();

    public int Count => _data.Count;

    public int ExpiresCount => _expires.Count;

    public long NowMs => time.GetUtcNow().ToUnixTimeMilliseconds();

    private Dictionary<byte[], object>.AlternateLookup<ReadOnlySpan<byte>> Data => _data.GetAlternateLookup<ReadOnlySpan<byte>>();

    private Dictionary<byte[], long>.AlternateLookup<ReadOnlySpan<byte>> Expires => _expires.GetAlternateLookup<ReadOnlySpan<byte>>();

    /// <summary>The value of <paramref name="key"/>, or null if it does not exist (or just expired).</summary>
    public object? Get(ReadOnlySpan<byte> key)
    {
        if (!Data.TryGetValue(key, out object? value))
        {
            return null;
        }

        if (_expires.Count > 0 && Expires.TryGetValue(key, out long at) && at <= NowMs)
        {
            Remove(key);
            return null;
        }

        return value;
    }

    /// <summary>
    /// The value slot of <paramref name="key"/>, created (null) if missing: callers store into it. An expired key
    /// counts as missing. Keeps the key's TTL; see <see cref="Persist"/>.
    /// </summary>
    public ref object? Slot(ReadOnlySpan<byte> key, out bool existed)
    {
        if (_expires.Count > 0 && Expires.TryGetValue(key, out long at) && at <= NowMs)
        {
            Remove(key);
        }

        return ref CollectionsMarshal.GetValueRefOrAddDefault(Data, key, out existed);
    }

    public bool Remove(ReadOnlySpan<byte> key)
    {
        if (!Data.Remove(key))
        {
            return false;
        }

        if (_expires.Count > 0)
        {
            Expires.Remove(key);
        }

        return true;
    }

    /// <summary>Sets the expiry of an existing key, in Unix milliseconds; a time already past deletes it.</summary>
    public void Expire(ReadOnlySpan<byte> key, long atMs)
    {
        if (atMs <= NowMs)
        {
            Remove(key);
            return;
        }

        if (!Data.TryGetValue(key, out byte[]? storedKey, out _))
        {
            return;
        }

        _expires[storedKey] = atMs;
        _expiryOrder.Enqueue(storedKey, atMs);
        if (_expiryOrder.Count > (2 * _expires.Count) + 1024)
        {
            // Overwritten TTLs leave stale heap entries behind: rebuild from the truth before they pile up.
            _expiryOrder.Clear();
            foreach (KeyValuePair<byte[], long> entry in _expires)
            {
                _expiryOrder.Enqueue(entry.Key, entry.Value);
            }
        }
    }

    /// <summary>The expiry in Unix milliseconds, or -1 when the key has none.</summary>
    public long ExpiryOf(ReadOnlySpan<byte> key) => _expires.Count > 0 && Expires.TryGetValue(key, out long at) ? at : -1;

    /// <summary>Removes the key's TTL; true if it had one.</summary>
    public bool Persist(ReadOnlySpan<byte> key) => _expires.Count > 0 && Expires.Remove(key);

    public void Clear()
    {
        _data.Clear();
        _expires.Clear();
        _expiryOrder.Clear();
    }

    /// <summary>Active expiry: removes keys whose time has come, oldest first, at most a bounded number per pass.</summary>
    public int RemoveExpired()
    {
        long now = NowMs;
        int removed = 0;
        while (removed < MaxExpiredPerPass && _expiryOrder.TryPeek(out byte[]? key, out long at) && at <= now)
        {
            _expiryOrder.Dequeue();

            // The heap may hold stale entries (TTL changed or removed, key deleted): the dictionary is the truth.
            if (_expires.TryGetValue(key, out long current) && current <= now)
            {
                Remove(key);
                removed++;
            }
        }

        return removed;
    }
}
