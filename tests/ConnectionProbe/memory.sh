#!/usr/bin/env bash
# memory.sh - what N peers that send and never read pin in an echo server: its RSS and the output it holds unsent.
#
#   tests/ConnectionProbe/memory.sh [--conns N] [--src OTHER_TREE] [-- PROBE_OPTIONS...]
#
# Builds ConnectionProbe (against this tree, or another checkout with --src), starts "ConnectionProbe echo --report
# PROBE_OPTIONS" (for example --high-watermark 65536 --low-watermark 16384), opens N non-reading connections with
# nonreaders.py, waits until the server stops taking data, and prints the server's RSS before and after and the
# pending output it reports. Every wait is bounded; everything started is stopped.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
project="$here/../../src/SelectReactor/SelectReactor.csproj"
conns=1000
while [ "$#" -gt 0 ]; do
  case "$1" in
    --conns) conns="$2"; shift 2 ;;
    --src) project="$(cd "$2" && pwd)/src/SelectReactor/SelectReactor.csproj"; shift 2 ;;
    --) shift; break ;;
    *) echo "memory.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
work="$(mktemp -d)"
server="" client=""
trap 'exec 5>&- 2>/dev/null || true; kill $server $client 2>/dev/null || true; rm -rf "$work"' EXIT

mkdir -p "$work/probe" && cp "$here/ConnectionProbe.csproj" "$here/Program.cs" "$work/probe/"
dotnet build "$work/probe/ConnectionProbe.csproj" -c Release -o "$work/bin" -p:SelectReactorProject="$project" \
  >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }

dotnet "$work/bin/ConnectionProbe.dll" echo --report "$@" >"$work/out" 2>"$work/report" &
server=$!
for _ in $(seq 1 200); do grep -q "listening on" "$work/out" && break; sleep 0.05; done
port="$(sed -n 's/.*listening on .*:\([0-9]*\).*/\1/p' "$work/out")"
[ -n "$port" ] || { echo "the server did not start"; cat "$work/out" "$work/report"; exit 1; }
sleep 1
rss_before="$(awk '/VmRSS/ {print $2}' "/proc/$server/status")"

mkfifo "$work/hold"
python3 "$here/nonreaders.py" 127.0.0.1 "$port" "$conns" <"$work/hold" >"$work/client" &
client=$!
exec 5>"$work/hold"
for _ in $(seq 1 1400); do grep -q "^held" "$work/client" && break; sleep 0.1; done
sleep 2
rss_after="$(awk '/VmRSS/ {print $2}' "/proc/$server/status")"
hwm="$(awk '/VmHWM/ {print $2}' "/proc/$server/status")"
last="$(tail -n 1 "$work/report")"
echo "options: ${*:-(defaults)}; $(cat "$work/client")"
echo "server: $last; RSS ${rss_before} KiB idle -> ${rss_after} KiB with $conns non-readers (peak ${hwm} KiB);" \
  "$(( (rss_after - rss_before) / conns )) KiB per non-reader"
