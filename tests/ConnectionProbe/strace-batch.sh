#!/usr/bin/env bash
# strace-batch.sh - proof that output written during one callback leaves in one system call: 16 pipelined requests,
# answered by a server that calls Send once per reply (Program.cs), counted with strace.
#
#   tests/ConnectionProbe/strace-batch.sh                 # this tree
#   tests/ConnectionProbe/strace-batch.sh --src OTHER     # the same program built against another checkout (to compare)
#
# Prints the send system calls that carried replies, then "16 pipelined requests answered with N send system
# call(s)". Needs strace and bash's /dev/tcp. Every wait is bounded; everything started is stopped.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
project="$here/../../src/SelectReactor/SelectReactor.csproj"
[ "${1:-}" = "--src" ] && project="$(cd "$2" && pwd)/src/SelectReactor/SelectReactor.csproj"
work="$(mktemp -d)"
trap 'exec 3>&- 2>/dev/null || true; kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

# Built from a copy, so that building against another tree leaves this one's obj/ alone.
mkdir -p "$work/proof" && cp "$here/ConnectionProbe.csproj" "$here/Program.cs" "$work/proof/"
dotnet build "$work/proof/ConnectionProbe.csproj" -c Release -o "$work/bin" -p:SelectReactorProject="$project" \
  >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }

mkfifo "$work/stdin"
strace -f -qq -e trace=sendto,sendmsg,write -s 256 -o "$work/strace.log" dotnet "$work/bin/ConnectionProbe.dll" lines --until-stdin-closes <"$work/stdin" >"$work/out" 2>&1 &
server=$!
exec 4>"$work/stdin" # holds the server's stdin open until the end
for _ in $(seq 1 200); do grep -q "listening on" "$work/out" && break; sleep 0.05; done
port="$(sed -n 's/.*listening on .*:\([0-9]*\).*/\1/p' "$work/out")"
[ -n "$port" ] || { echo "the server did not start"; cat "$work/out"; exit 1; }

exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'PING\r\nPING\r\nPING\r\nPING\r\nPING\r\nPING\r\nPING\r\nPING\r\nPING\r\nPING\r\nPING\r\nPING\r\nPING\r\nPING\r\nPING\r\nPING\r\n' >&3
replies="$(timeout 10 head -c 112 <&3 | tr -d '\r' | grep -c PONG || true)"
exec 3>&-
exec 4>&- # end of stdin: the server stops
timeout 10 tail --pid="$server" -f /dev/null || true

echo "replies received: $replies"
grep -E 'send(to|msg)\(.*PONG' "$work/strace.log" | sed 's/^[0-9]* //' | cut -c1-160
calls="$(grep -cE 'send(to|msg)\(.*PONG' "$work/strace.log" || true)"
echo "16 pipelined requests answered with $calls send system call(s)"
