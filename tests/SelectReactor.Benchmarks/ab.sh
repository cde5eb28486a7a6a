#!/usr/bin/env bash
# ab.sh - before/after: two builds of samples/EchoServer under echoload, alternated round by round in one run.
#
#   tests/SelectReactor.Benchmarks/ab.sh --a DIR_A --b DIR_B [options]
#
# DIR_A and DIR_B each hold a built EchoServer.dll (dotnet build samples/EchoServer -c Release -o DIR); or give whole
# commands with --a-cmd/--b-cmd (for example "dotnet DIR/ConnectionProbe.dll echo" with --a-args/--b-args, to compare
# settings on one build). The server gets "--port 0 --max-connections 20000" and its args appended; --echoload-args
# adds to every echoload command (for example "--window 1048576" so a stream can outrun the watermark). Each run
# starts a fresh server pinned to core 0 (taskset -c 0) and echoload pinned to core 1, with --verify; the order of
# A and B swaps every round. Reported per load: the median over the rounds of msgs/s (ping-pong) or MiB/s (stream),
# server CPU seconds per million messages, peak RSS, and B/A. Every wait is bounded; everything started is stopped.
set -euo pipefail

a="" b="" rounds=5 duration=5 warmup=1
configs="pp1,pp50,pp1000,stream10"
server_args=""
load_args=""
echoload="${ECHOLOAD:-}"
while [ "$#" -gt 0 ]; do
  case "$1" in
    --a) a="dotnet $2/EchoServer.dll"; shift 2 ;;
    --b) b="dotnet $2/EchoServer.dll"; shift 2 ;;
    --a-cmd) a="$2"; shift 2 ;;
    --b-cmd) b="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --configs) configs="$2"; shift 2 ;;
    --server-args) server_args="$2"; shift 2 ;;
    --a-args) a_args="$2"; shift 2 ;;
    --b-args) b_args="$2"; shift 2 ;;
    --echoload) echoload="$2"; shift 2 ;;
    --echoload-args) load_args="$2"; shift 2 ;;
    -h|--help) sed -n 2,11p "$0"; exit 0 ;;
    *) echo "ab.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$a" ] && [ -n "$b" ] || { echo "ab.sh: --a/--a-cmd and --b/--b-cmd are required" >&2; exit 2; }
a_args="${a_args:-$server_args}"
b_args="${b_args:-$server_args}"
if [ -z "$echoload" ]; then
  echoload="$(mktemp -d)/echoload"
  src="$(cd "$(dirname "$0")/../.." && pwd)/../shared/bench/echoload.c"
  gcc -O2 -Wall -DNO_TLS -o "$echoload" "$src"
fi

server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true; }
trap cleanup EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
user_ticks() { awk '{print $14}' "/proc/$1/stat"; }

# run COMMAND ARGS CONFIG -> prints "rate cpu_per_million rss_kib user_cpu_per_million"
run() {
  local cmd="$1" args="$2" config="$3" out log port ticks0 ticks1 user0 user1 clk rate msgs rss
  log="$(mktemp)"
  # shellcheck disable=SC2086
  taskset -c 0 $cmd --port 0 --max-connections 20000 $args >"$log" 2>/dev/null &
  server_pid=$!
  for _ in $(seq 1 200); do grep -q "listening on" "$log" && break; sleep 0.05; done
  port="$(sed -n 's/.*listening on .*:\([0-9]*\).*/\1/p' "$log" | head -n 1)"
  [ -n "$port" ] || { echo "ab.sh: server $cmd did not start" >&2; exit 1; }
  local mode=pingpong size=64 conns
  case "$config" in
    pp*) conns="${config#pp}" ;;
    stream*) mode=stream; size=16384; conns="${config#stream}" ;;
  esac
  ticks0="$(cpu_ticks "$server_pid")"
  user0="$(user_ticks "$server_pid")"
  out="$(taskset -c 1 "$echoload" --port "$port" --mode "$mode" --size "$size" --conns "$conns" \
    --duration "$duration" --warmup "$warmup" --verify --connect-rate 5000 --quiet $load_args 2>&1 | grep RESULT || true)"
  ticks1="$(cpu_ticks "$server_pid")"
  user1="$(user_ticks "$server_pid")"
  rss="$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")"
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  rm -f "$log"
  case "$out" in *"errors=0"*"verified=1"*) ;; *) echo "ab.sh: $config on $cmd: $out" >&2 ;; esac
  clk="$(getconf CLK_TCK)"
  if [ "$mode" = pingpong ]; then
    rate="$(sed -n 's/.*msgs_per_s=\([0-9.]*\).*/\1/p' <<<"$out")"
  else
    rate="$(sed -n 's/.*MiB_per_s=\([0-9.]*\).*/\1/p' <<<"$out")"
  fi
  msgs="$(sed -n 's/.*msgs_per_s=\([0-9.]*\).*/\1/p' <<<"$out")"
  # CPU over the whole run (connect, warm-up, measure) per million messages measured: comparable between A and B.
  awk -v r="${rate:-0}" -v m="${msgs:-0}" -v t=$((ticks1 - ticks0)) -v u=$((user1 - user0)) -v c="$clk" -v d="$duration" -v rss="$rss" \
    'BEGIN { printf "%s %.2f %s %.2f\n", r, (m > 0 ? (t / c) / (m * d) * 1e6 : 0), rss, (m > 0 ? (u / c) / (m * d) * 1e6 : 0) }'
}

median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

IFS=',' read -r -a cfgs <<<"$configs"
declare -A res
for round in $(seq 1 "$rounds"); do
  for config in "${cfgs[@]}"; do
    if [ $((round % 2)) -eq 1 ]; then order="a b"; else order="b a"; fi
    for side in $order; do
      if [ "$side" = a ]; then line="$(run "$a" "$a_args" "$config")"; else line="$(run "$b" "$b_args" "$config")"; fi
      res["$config,$side"]+="$line"$'\n'
      echo "round $round $config $side: $line" >&2
    done
  done
done

printf '| load | A | B | B/A | A CPU s/M msgs | B CPU s/M msgs | A user CPU s/M | B user CPU s/M | A peak RSS MiB | B peak RSS MiB |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
for config in "${cfgs[@]}"; do
  ra="$(printf '%s' "${res[$config,a]}" | awk 'NF {print $1}' | median)"
  rb="$(printf '%s' "${res[$config,b]}" | awk 'NF {print $1}' | median)"
  ca="$(printf '%s' "${res[$config,a]}" | awk 'NF {print $2}' | median)"
  cb="$(printf '%s' "${res[$config,b]}" | awk 'NF {print $2}' | median)"
  ma="$(printf '%s' "${res[$config,a]}" | awk 'NF {print $3}' | median)"
  mb="$(printf '%s' "${res[$config,b]}" | awk 'NF {print $3}' | median)"
  ua="$(printf '%s' "${res[$config,a]}" | awk 'NF {print $4}' | median)"
  ub="$(printf '%s' "${res[$config,b]}" | awk 'NF {print $4}' | median)"
  unit="msgs/s"; case "$config" in stream*) unit="MiB/s" ;; esac
  awk -v c="$config" -v u="$unit" -v ra="$ra" -v rb="$rb" -v ca="$ca" -v cb="$cb" -v ma="$ma" -v mb="$mb" -v ua="$ua" -v ub="$ub" \
    'BEGIN { printf "| %s (%s) | %.0f | %.0f | %.3f | %.2f | %.2f | %.2f | %.2f | %.0f | %.0f |\n", c, u, ra, rb, (ra > 0 ? rb / ra : 0), ca, cb, ua, ub, ma / 1024, mb / 1024 }'
done
