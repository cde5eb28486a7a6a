using System;
using System.Buffers;
using System.Text;
using System.Threading.Tasks;

namespace RedisServer;

/// <summary>
/// The commands: a table of name, arity (Redis's convention: N exactly, -N at least N, the name included) and
/// implementation, looked up without allocating. Replies and error texts are Redis 7.0's.
/// </summary>
internal static class Commands
{
    private delegate void Handler(RespConnection client, Arguments args);

    private static readonly Command[] Table =
    [
        new("ping", -1, Ping), new("echo", 2, Echo), new("quit", -1, Quit), new("select", 2, Select),
        new("get", 2, Get), new("set", -3, Set), new("del", -2, Del), new("exists", -2, Exists),
        new("setex", 4, SetEx), new("setnx", 3, SetNx), new("unlink", -2, Del), // beyond the list: what StackExchange.Redis sends
        new("incr", 2, (c, a) => IncrBy(c, a, 1)), new("decr", 2, (c, a) => IncrBy(c, a, -1)), new("incrby", 3, IncrBy),
        new("mget", -2, MGet), new("mset", -3, MSet),
        new("expire", -3, (c, a) => Expire(c, a, 1000)), new("pexpire", -3, (c, a) => Expire(c, a, 1)),
        new("ttl", 2, (c, a) => Ttl(c, a, 1000)), new("pttl", 2, (c, a) => Ttl(c, a, 1)), new("persist", 2, Persist),
        new("dbsize", 1, DbSize), new("flushdb", -1, Flush), new("flushall", -1, Flush),
        new("lpush", -3, (c, a) => Push(c, a, left: true)), new("rpush", -3, (c, a) => Push(c, a, left: false)),
        new("lpop", -2, (c, a) => Pop(c, a, left: true)), new("rpop", -2, (c, a) => Pop(c, a, left: false)),
        new("lrange", 4, LRange), new("llen", 2, LLen),
        new("client", -2, Client), new("config", -2, Config), new("command", -1, CommandCommand), new("info", -1, Info),
        new("debug", -2, Debug),
    ];

    // Buckets by name length, so a lookup compares against a handful of names at most.
    private static readonly Command[][] ByLength = BuildIndex();

    public static int Count => Table.Length;

    public static void Execute(RespConnection client, Arguments args)
    {
        ReadOnlySpan<byte> name = args[0];
        Command? command = null;
        if (name.Length < ByLength.Length)
        {
            foreach (Command candidate in ByLength[name.Length])
            {
                if (Ascii.EqualsIgnoreCase(name, candidate.NameBytes))
                {
                    command = candidate;
                    break;
                }
            }
        }

        if (command is null)
        {
            var text = new StringBuilder();
            for (int i = 1; i < args.Count && text.Length < 128; i++)
            {
                string arg = args.Text(i);
                int room = 128 - text.Length;
                text.Append('\'').Append(arg.AsSpan(0, Math.Min(arg.Length, room))).Append("' ");
            }

            string shown = args.Text(0);
            Resp.Error(client.Output, $"ERR unknown command '{shown[..Math.Min(shown.Length, 128)]}', with args beginning with: {text}");
            return;
        }

        if ((command.Arity > 0 && args.Count != command.Arity) || args.Count < -command.Arity)
        {
            WrongArity(client, command.Name);
            return;
        }

        command.Run(client, args);
    }

    private static void WrongArity(RespConnection client, string name) => Resp.Error(client.Output, $"ERR wrong number of arguments for '{name}' command");

    private static void UnknownSubcommand(RespConnection client, Arguments args) =>
        Resp.Error(client.Output, $"ERR unknown subcommand '{args.Text(1)[..Math.Min(args[1].Length, 128)]}'. Try {args.Text(0).ToUpperInvariant()} HELP.");

    private static void Ping(RespConnection client, Arguments args)
    {
        if (args.Count > 2)
        {
            WrongArity(client, "ping");
        }
        else if (args.Count == 2)
        {
            Resp.Bulk(client.Output, args[1]);
        }
        else
        {
            Resp.Raw(client.Output, Resp.Pong);
        }
    }

    private static void Echo(RespConnection client, Arguments args) => Resp.Bulk(client.Output, args[1]);

    private static void Quit(RespConnection client, Arguments args)
    {
        Resp.Raw(client.Output, Resp.Ok);
        client.Connection!.Close(); // after the reply: Close sends what is queued first
    }

    private static void Select(RespConnection client, Arguments args)
    {
        if (!args.TryInteger(1, out long index))
        {
            Resp.Raw(client.Output, Resp.NotAnInteger);
        }
        else if (index != 0)
        {
            Resp.Error(client.Output, "ERR DB index is out of range"); // one database only, as if started with "databases 1"
        }
        else
        {
            Resp.Raw(client.Output, Resp.Ok);
        }
    }

    private static void Get(RespConnection client, Arguments args)
    {
        switch (client.Server.Keyspace.Get(args[1]))
        {
            case null:
                Resp.Raw(client.Output, Resp.Null);
                break;
            case byte[] value:
                Resp.Bulk(client.Output, value);
                break;
            default:
                Resp.Raw(client.Output, Resp.WrongType);
                break;
        }
    }

    /// <summary>SET key value [NX | XX] [EX seconds | PX milliseconds].</summary>
    private static void Set(RespConnection client, Arguments args)
    {
        bool nx = false, xx = false;
        long expireMs = -1;
        for (int i = 3; i < args.Count; i++)
        {
            bool hasNext = i + 1 < args.Count;
            if (args.Is(i, "nx") && !xx)
            {
                nx = true;
            }
            else if (args.Is(i, "xx") && !nx)
            {
                xx = true;
            }
            else if ((args.Is(i, "ex") || args.Is(i, "px")) && expireMs == -1 && hasNext)
            {
                long unit = args.Is(i, "ex") ? 1000 : 1;
                if (!args.TryInteger(++i, out long amount))
                {
                    Resp.Raw(client.Output, Resp.NotAnInteger);
                    return;
                }

                if (amount <= 0 || amount > long.MaxValue / unit || amount * unit > long.MaxValue - client.Server.Keyspace.NowMs)
                {
                    Resp.Error(client.Output, "ERR invalid expire time in 'set' command");
                    return;
                }

                expireMs = amount * unit;
            }
            else
            {
                Resp.Raw(client.Output, Resp.SyntaxError);
                return;
            }
        }

        Keyspace keyspace = client.Server.Keyspace;
        ReadOnlySpan<byte> key = args[1];
        if (nx || xx)
        {
            bool exists = keyspace.Get(key) is not null;
            if ((nx && exists) || (xx && !exists))
            {
                Resp.Raw(client.Output, Resp.Null);
                return;
            }
        }

        StoreString(keyspace, key, args[2]);
        keyspace.Persist(key);
        if (expireMs > 0)
        {
            keyspace.Expire(key, keyspace.NowMs + expireMs);
        }

        Resp.Raw(client.Output, Resp.Ok);
    }

    /// <summary>SETEX key seconds value: SET key value EX seconds, in the older spelling.</summary>
    private static void SetEx(RespConnection client, Arguments args)
    {
        Keyspace keyspace = client.Server.Keyspace;
        if (!args.TryInteger(2, out long seconds))
        {
            Resp.Raw(client.Output, Resp.NotAnInteger);
            return;
        }

        if (seconds <= 0 || seconds > (long.MaxValue - keyspace.NowMs) / 1000)
        {
            Resp.Error(client.Output, "ERR invalid expire time in 'setex' command");
            return;
        }

        StoreString(keyspace, args[1], args[3]);
        keyspace.Expire(args[1], keyspace.NowMs + (seconds * 1000));
        Resp.Raw(client.Output, Resp.Ok);
    }

    /// <summary>SETNX key value: SET key value NX, answering 1 or 0.</summary>
    private static void SetNx(RespConnection client, Arguments args)
    {
        Keyspace keyspace = client.Server.Keyspace;
        if (keyspace.Get(args[1]) is not null)
        {
            Resp.Integer(client.Output, 0);
            return;
        }

        StoreString(keyspace, args[1], args[2]);
        keyspace.Persist(args[1]);
        Resp.Integer(client.Output, 1);
    }

    /// <summary>Stores a string, reusing the old value's array when the length matches: overwriting allocates nothing.</summary>
    private static void StoreString(Keyspace keyspace, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        ref object? slot = ref keyspace.Slot(key, out _);
        if (slot is byte[] old && old.Length == value.Length)
        {
            value.CopyTo(old);
        }
        else
        {
            slot = value.ToArray();
        }
    }

    private static void Del(RespConnection client, Arguments args)
    {
        long removed = 0;
        for (int i = 1; i < args.Count; i++)
        {
            removed += client.Server.Keyspace.Remove(args[i]) ? 1 : 0;
        }

        Resp.Integer(client.Output, removed);
    }

    private static void Exists(RespConnection client, Arguments args)
    {
        long found = 0;
        for (int i = 1; i < args.Count; i++)
        {
            found += client.Server.Keyspace.Get(args[i]) is null ? 0 : 1;
        }

        Resp.Integer(client.Output, found);
    }

    private static void IncrBy(RespConnection client, Arguments args)
    {
        if (!args.TryInteger(2, out long by))
        {
            Resp.Raw(client.Output, Resp.NotAnInteger);
            return;
        }

        IncrBy(client, args, by);
    }

    private static void IncrBy(RespConnection client, Arguments args, long by)
    {
        Keyspace keyspace = client.Server.Keyspace;
        long current = 0;
        switch (keyspace.Get(args[1]))
        {
            case null:
                break;
            case byte[] value when Arguments.TryParseInteger(value, out long parsed):
                current = parsed;
                break;
            case byte[]:
                Resp.Raw(client.Output, Resp.NotAnInteger);
                return;
            default:
                Resp.Raw(client.Output, Resp.WrongType);
                return;
        }

        if ((by > 0 && current > long.MaxValue - by) || (by < 0 && current < long.MinValue - by))
        {
            Resp.Error(client.Output, "ERR increment or decrement would overflow");
            return;
        }

        long result = current + by;
        Span<byte> digits = stackalloc byte[20];
        System.Buffers.Text.Utf8Formatter.TryFormat(result, digits, out int length);
        StoreString(keyspace, args[1], digits[..length]); // keeps the TTL, as Redis's INCR does
        Resp.Integer(client.Output, result);
    }

    private static void MGet(RespConnection client, Arguments args)
    {
        Resp.ArrayHeader(client.Output, args.Count - 1);
        for (int i = 1; i < args.Count; i++)
        {
            if (client.Server.Keyspace.Get(args[i]) is byte[] value)
            {
                Resp.Bulk(client.Output, value);
            }
            else
            {
                Resp.Raw(client.Output, Resp.Null);
            }
        }
    }

    private static void MSet(RespConnection client, Arguments args)
    {
        if (args.Count % 2 == 0)
        {
            WrongArity(client, "mset");
            return;
        }

        for (int i = 1; i < args.Count; i += 2)
        {
            StoreString(client.Server.Keyspace, args[i], args[i + 1]);
            client.Server.Keyspace.Persist(args[i]);
        }

        Resp.Raw(client.Output, Resp.Ok);
    }

    /// <summary>EXPIRE / PEXPIRE key amount [NX | XX | GT | LT].</summary>
    private static void Expire(RespConnection client, Arguments args, long unit)
    {
        string name = unit == 1 ? "pexpire" : "expire";
        bool nx = false, xx = false, gt = false, lt = false;
        for (int i = 3; i < args.Count; i++)
        {
            if (args.Is(i, "nx")) nx = true;
            else if (args.Is(i, "xx")) xx = true;
            else if (args.Is(i, "gt")) gt = true;
            else if (args.Is(i, "lt")) lt = true;
            else
            {
                Resp.Error(client.Output, $"ERR Unsupported option {args.Text(i)}");
                return;
            }
        }

        if (nx && (xx || gt || lt))
        {
            Resp.Error(client.Output, "ERR NX and XX, GT or LT options at the same time are not compatible");
            return;
        }

        if (gt && lt)
        {
            Resp.Error(client.Output, "ERR GT and LT options at the same time are not compatible");
            return;
        }

        if (!args.TryInteger(2, out long amount))
        {
            Resp.Raw(client.Output, Resp.NotAnInteger);
            return;
        }

        Keyspace keyspace = client.Server.Keyspace;
        long now = keyspace.NowMs;
        if (amount > long.MaxValue / unit || amount < long.MinValue / unit || amount * unit > long.MaxValue - now)
        {
            Resp.Error(client.Output, $"ERR invalid expire time in '{name}' command");
            return;
        }

        long at = now + (amount * unit);
        if (keyspace.Get(args[1]) is null)
        {
            Resp.Integer(client.Output, 0);
            return;
        }

        long current = keyspace.ExpiryOf(args[1]);
        bool refused = (nx && current != -1) || (xx && current == -1) || (gt && (current == -1 || at <= current)) || (lt && current != -1 && at >= current);
        if (refused)
        {
            Resp.Integer(client.Output, 0);
            return;
        }

        keyspace.Expire(args[1], at);
        Resp.Integer(client.Output, 1);
    }

    private static void Ttl(RespConnection client, Arguments args, long unit)
    {
        Keyspace keyspace = client.Server.Keyspace;
        if (keyspace.Get(args[1]) is null)
        {
            Resp.Integer(client.Output, -2);
            return;
        }

        long at = keyspace.ExpiryOf(args[1]);
        if (at == -1)
        {
            Resp.Integer(client.Output, -1);
            return;
        }

        long left = Math.Max(0, at - keyspace.NowMs);
        Resp.Integer(client.Output, unit == 1 ? left : (left + 500) / 1000);
    }

    private static void Persist(RespConnection client, Arguments args)
    {
        bool exists = client.Server.Keyspace.Get(args[1]) is not null;
        Resp.Integer(client.Output, exists && client.Server.Keyspace.Persist(args[1]) ? 1 : 0);
    }

    private static void DbSize(RespConnection client, Arguments args) => Resp.Integer(client.Output, client.Server.Keyspace.Count);

    private static void Flush(RespConnection client, Arguments args)
    {
        if (args.Count > 2 || (args.Count == 2 && !args.Is(1, "async") && !args.Is(1, "sync")))
        {
            Resp.Raw(client.Output, Resp.SyntaxError);
            return;
        }

        client.Server.Keyspace.Clear();
        Resp.Raw(client.Output, Resp.Ok);
    }

    private static void Push(RespConnection client, Arguments args, bool left)
    {
        ref object? slot = ref client.Server.Keyspace.Slot(args[1], out bool existed);
        if (existed && slot is not RedisList)
        {
            Resp.Raw(client.Output, Resp.WrongType);
            return;
        }

        var list = (RedisList)(slot ??= new RedisList());
        for (int i = 2; i < args.Count; i++)
        {
            if (left)
            {
                list.PushLeft(args[i].ToArray());
            }
            else
            {
                list.PushRight(args[i].ToArray());
            }
        }

        Resp.Integer(client.Output, list.Count);
    }

    /// <summary>LPOP / RPOP key [count].</summary>
    private static void Pop(RespConnection client, Arguments args, bool left)
    {
        if (args.Count > 3)
        {
            WrongArity(client, left ? "lpop" : "rpop");
            return;
        }

        long count = 0;
        bool hasCount = args.Count == 3;
        if (hasCount && (!args.TryInteger(2, out count) || count < 0))
        {
            Resp.Error(client.Output, "ERR value is out of range, must be positive");
            return;
        }

        switch (client.Server.Keyspace.Get(args[1]))
        {
            case null:
                Resp.Raw(client.Output, hasCount ? Resp.NullArray : Resp.Null);
                return;
            case not RedisList:
                Resp.Raw(client.Output, Resp.WrongType);
                return;
            case RedisList list:
                if (!hasCount)
                {
                    Resp.Bulk(client.Output, left ? list.PopLeft() : list.PopRight());
                }
                else
                {
                    long n = Math.Min(count, list.Count);
                    Resp.ArrayHeader(client.Output, n);
                    for (long i = 0; i < n; i++)
                    {
                        Resp.Bulk(client.Output, left ? list.PopLeft() : list.PopRight());
                    }
                }

                if (list.Count == 0)
                {
                    client.Server.Keyspace.Remove(args[1]); // Redis deletes a list that becomes empty
                }

                return;
        }
    }

    private static void LRange(RespConnection client, Arguments args)
    {
        if (!args.TryInteger(2, out long start) || !args.TryInteger(3, out long stop))
        {
            Resp.Raw(client.Output, Resp.NotAnInteger);
            return;
        }

        switch (client.Server.Keyspace.Get(args[1]))
        {
            case null:
                Resp.Raw(client.Output, Resp.EmptyArray);
                return;
            case not RedisList:
                Resp.Raw(client.Output, Resp.WrongType);
                return;
            case RedisList list:
                long length = list.Count;
                if (start < 0) start = Math.Max(0, length + start);
                if (stop < 0) stop = length + stop;
                if (stop >= length) stop = length - 1;
                if (start > stop || start >= length)
                {
                    Resp.Raw(client.Output, Resp.EmptyArray);
                    return;
                }

                Resp.ArrayHeader(client.Output, stop - start + 1);
                for (long i = start; i <= stop; i++)
                {
                    Resp.Bulk(client.Output, list[(int)i]);
                }

                return;
        }
    }

    private static void LLen(RespConnection client, Arguments args)
    {
        switch (client.Server.Keyspace.Get(args[1]))
        {
            case null:
                Resp.Integer(client.Output, 0);
                break;
            case RedisList list:
                Resp.Integer(client.Output, list.Count);
                break;
            default:
                Resp.Raw(client.Output, Resp.WrongType);
                break;
        }
    }

    /// <summary>CLIENT SETNAME name | GETNAME.</summary>
    private static void Client(RespConnection client, Arguments args)
    {
        if (args.Is(1, "setname"))
        {
            if (args.Count != 3)
            {
                WrongArity(client, "client|setname");
                return;
            }

            foreach (byte b in args[2])
            {
                if (b is < (byte)'!' or > (byte)'~')
                {
                    Resp.Error(client.Output, "ERR Client names cannot contain spaces, newlines or special characters.");
                    return;
                }
            }

            client.Name = args[2].IsEmpty ? null : args.Text(2);
            Resp.Raw(client.Output, Resp.Ok);
        }
        else if (args.Is(1, "getname"))
        {
            if (args.Count != 2)
            {
                WrongArity(client, "client|getname");
            }
            else if (client.Name is null)
            {
                Resp.Raw(client.Output, Resp.Null);
            }
            else
            {
                Resp.Bulk(client.Output, client.Name);
            }
        }
        else
        {
            UnknownSubcommand(client, args);
        }
    }

    /// <summary>CONFIG GET pattern [pattern ...]: the few parameters clients and redis-benchmark ask about.</summary>
    private static void Config(RespConnection client, Arguments args)
    {
        if (!args.Is(1, "get"))
        {
            UnknownSubcommand(client, args);
            return;
        }

        if (args.Count < 3)
        {
            WrongArity(client, "config|get");
            return;
        }

        (string Name, string Value)[] parameters =
        [
            ("save", ""), ("appendonly", "no"), ("databases", "1"), ("maxclients", "10000"), ("timeout", "0"),
            ("port", client.Server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("proto-max-bulk-len", RespConnection.MaxBulkLength.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("client-query-buffer-limit", RespConnection.MaxQueryBuffer.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("maxmemory", "0"), ("replica-read-only", "yes"), ("slave-read-only", "yes"), ("hz", "10"),
        ];
        var matches = new System.Collections.Generic.List<(string Name, string Value)>();
        foreach ((string Name, string Value) parameter in parameters)
        {
            for (int i = 2; i < args.Count; i++)
            {
                if (Glob.Matches(args[i], Encoding.ASCII.GetBytes(parameter.Name)))
                {
                    matches.Add(parameter);
                    break;
                }
            }
        }

        Resp.ArrayHeader(client.Output, 2 * matches.Count);
        foreach ((string name, string value) in matches)
        {
            Resp.Bulk(client.Output, name);
            Resp.Bulk(client.Output, value);
        }
    }

    /// <summary>COMMAND, COMMAND COUNT, COMMAND INFO name..., COMMAND DOCS (empty: no documentation to give).</summary>
    private static void CommandCommand(RespConnection client, Arguments args)
    {
        IBufferWriter<byte> output = client.Output;
        if (args.Count == 1)
        {
            Resp.ArrayHeader(output, Table.Length);
            foreach (Command command in Table)
            {
                Describe(output, command);
            }
        }
        else if (args.Is(1, "count") && args.Count == 2)
        {
            Resp.Integer(output, Table.Length);
        }
        else if (args.Is(1, "docs"))
        {
            Resp.Raw(output, Resp.EmptyArray);
        }
        else if (args.Is(1, "info"))
        {
            Resp.ArrayHeader(output, args.Count - 2);
            for (int i = 2; i < args.Count; i++)
            {
                string wanted = args.Text(i);
                Command? found = Array.Find(Table, c => Ascii.EqualsIgnoreCase(c.Name, wanted));
                if (found is null)
                {
                    Resp.Raw(output, Resp.NullArray);
                }
                else
                {
                    Describe(output, found);
                }
            }
        }
        else
        {
            UnknownSubcommand(client, args);
        }
    }

    /// <summary>The classic six fields: name, arity, flags, first key, last key, key step.</summary>
    private static void Describe(IBufferWriter<byte> output, Command command)
    {
        Resp.ArrayHeader(output, 6);
        Resp.Bulk(output, command.Name);
        Resp.Integer(output, command.Arity);
        Resp.Raw(output, Resp.EmptyArray);
        bool keyed = command.Arity is >= 2 or <= -2 && command.Name is not ("echo" or "select" or "client" or "config" or "command" or "info" or "debug" or "ping" or "quit" or "flushdb" or "flushall");
        int last = command.Name is "del" or "exists" or "mget" or "mset" ? -1 : 1;
        Resp.Integer(output, keyed ? 1 : 0);
        Resp.Integer(output, keyed ? last : 0);
        Resp.Integer(output, keyed ? (command.Name == "mset" ? 2 : 1) : 0);
    }

    private static void Info(RespConnection client, Arguments args)
    {
        ServerState server = client.Server;
        var info = new StringBuilder();
        info.Append("# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\nos:Linux\r\narch_bits:64\r\n")
            .Append("multiplexing_api:select (SelectReactor)\r\n")
            .Append("process_id:").Append(Environment.ProcessId).Append("\r\n")
            .Append("tcp_port:").Append(server.Port).Append("\r\n")
            .Append("uptime_in_seconds:").Append((long)System.Diagnostics.Stopwatch.GetElapsedTime(server.StartedAt).TotalSeconds).Append("\r\n\r\n")
            .Append("# Clients\r\nconnected_clients:").Append(server.ConnectedClients).Append("\r\n\r\n")
            .Append("# Memory\r\nused_memory:").Append(GC.GetTotalMemory(false)).Append("\r\n\r\n")
            .Append("# Stats\r\ntotal_commands_processed:").Append(server.CommandsProcessed).Append("\r\n\r\n")
            .Append("# Replication\r\nrole:master\r\nconnected_slaves:0\r\n\r\n")
            .Append("# Keyspace\r\n");
        if (server.Keyspace.Count > 0)
        {
            info.Append("db0:keys=").Append(server.Keyspace.Count).Append(",expires=").Append(server.Keyspace.ExpiresCount).Append(",avg_ttl=0\r\n");
        }

        Resp.Bulk(client.Output, info.ToString());
    }

    /// <summary>
    /// DEBUG SLEEP seconds: the sample's one asynchronous command. Real Redis blocks the whole server; here only this
    /// connection waits (its later requests stay queued, in order) while every other client is served.
    /// </summary>
    private static void Debug(RespConnection client, Arguments args)
    {
        if (!args.Is(1, "sleep"))
        {
            UnknownSubcommand(client, args);
            return;
        }

        if (args.Count != 3 || !double.TryParse(args[2], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double seconds) || seconds < 0 || seconds > 3600)
        {
            Resp.Error(client.Output, "ERR value is not a valid float");
            return;
        }

        client.Await(SleepThenReply(client, TimeSpan.FromSeconds(seconds)));
    }

    private static async ValueTask SleepThenReply(RespConnection client, TimeSpan delay)
    {
        await Task.Delay(delay, client.Server.Time);

        // Back on the reactor thread, in a posted callback: the reply is queued first, then the connection parses what
        // arrived meanwhile, and the answers leave together, in order, as that callback returns.
        Resp.Raw(client.Output, Resp.Ok);
    }

    private static Command[][] BuildIndex()
    {
        int longest = 0;
        foreach (Command command in Table)
        {
            longest = Math.Max(longest, command.Name.Length);
        }

        var index = new Command[longest + 1][];
        for (int length = 0; length <= longest; length++)
        {
            index[length] = Array.FindAll(Table, c => c.Name.Length == length);
        }

        return index;
    }

    private sealed class Command(string name, int arity, Handler run)
    {
        public string Name { get; } = name;

        public byte[] NameBytes { get; } = Encoding.ASCII.GetBytes(name);

        public int Arity { get; } = arity;

        public void Run(RespConnection client, Arguments args) => run(client, args);
    }
}
