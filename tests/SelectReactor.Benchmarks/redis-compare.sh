#!/usr/bin/env bash
# redis-compare.sh - samples/RedisServer (SelectReactor) against the real redis-server 7, in one run, under Redis's
# own load generator. See README.md beside this file ("The Redis comparison").
#
# Each server runs pinned to core 0 (taskset -c 0), redis-benchmark to core 1. Per round, each server gets a fresh
# process and runs every configuration, SET then GET, the servers alternating first place between rounds; the table
# reports medians over the rounds and the ratio ours / redis-server. Server CPU per million requests comes from
# utime+stime in /proc/PID/stat around each redis-benchmark run. Then, unless skipped: memory (RSS) for N small keys
# loaded with redis-cli --pipe into a fresh server; syscalls per pipelined batch under strace -c -f; and the
# allocation per frame and per request from the test suite's deterministic allocation tests.
# Everything started here is stopped here (trap on exit), and every wait is bounded.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT_DIR="$ROOT/artifacts/bench"
DLL="$ROOT/samples/RedisServer/bin/Release/net10.0/RedisServer.dll"

usage() {
  cat <<'EOF'
usage: tests/SelectReactor.Benchmarks/redis-compare.sh [options]

  --requests N       requests per redis-benchmark run (default 200000)
  --rounds N         rounds; the servers alternate first place (default 3)
  --configs LIST     CxP pairs: C connections, P pipelined (default 50x1,50x16,1000x1)
  --keyspace N       redis-benchmark -r: random keys drawn from N (default 100000)
  --keys N           keys loaded for the memory comparison (default 1000000; 0 skips it)
  --no-strace        skip the syscall count
  --no-alloc         skip the allocation tests
  --no-build         use what is already built
  --results FILE     where to write the markdown (default artifacts/bench/redis-compare-DATE.md)
  -h, --help         this text

Needs: the .NET 10 SDK, redis-server 7, redis-benchmark and redis-cli (Debian's redis-server and redis-tools),
taskset, and strace unless --no-strace.
EOF
}

requests=200000
rounds=3
configs="50x1,50x16,1000x1"
keyspace=100000
keys=1000000
do_strace=1
do_alloc=1
build=1
results=""

need_value() { [ "$#" -ge 2 ] || { echo "redis-compare.sh: $1 needs a value" >&2; usage >&2; exit 2; }; }
while [ "$#" -gt 0 ]; do
  case "$1" in
    --requests) need_value "$@"; requests="$2"; shift 2 ;;
    --rounds) need_value "$@"; rounds="$2"; shift 2 ;;
    --configs) need_value "$@"; configs="$2"; shift 2 ;;
    --keyspace) need_value "$@"; keyspace="$2"; shift 2 ;;
    --keys) need_value "$@"; keys="$2"; shift 2 ;;
    --no-strace) do_strace=0; shift ;;
    --no-alloc) do_alloc=0; shift ;;
    --no-build) build=0; shift ;;
    --results) need_value "$@"; results="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "redis-compare.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

for tool in redis-server redis-benchmark redis-cli taskset dotnet; do
  command -v "$tool" >/dev/null 2>&1 || { echo "redis-compare.sh: $tool is required (apt-get install redis-server redis-tools util-linux)" >&2; exit 2; }
done
if [ "$do_strace" -eq 1 ] && ! command -v strace >/dev/null 2>&1; then
  echo "redis-compare.sh: strace not found; skipping the syscall count (apt-get install strace)" >&2
  do_strace=0
fi

mkdir -p "$OUT_DIR"
stamp="$(date +%Y%m%d-%H%M%S)"
results="${results:-$OUT_DIR/redis-compare-$stamp.md}"
tsv="${results%.md}.tsv"
work="$(mktemp -d)"
clk_tck="$(getconf CLK_TCK)"

# -c 1000 needs a descriptor each on both sides, and redis-server wants room for its 10,000 clients.
hard_fds="$(ulimit -Hn)"
if [ "$hard_fds" = unlimited ] || [ "$hard_fds" -ge 20000 ]; then ulimit -n 20000; else ulimit -n "$hard_fds"; fi

started=()
cleanup() {
  for pid in "${started[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  sleep 0.2
  for pid in "${started[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

if [ "$build" -eq 1 ]; then
  echo "building samples/RedisServer (Release)..." >&2
  dotnet build "$ROOT/samples/RedisServer/RedisServer.csproj" -c Release -v quiet -nologo >/dev/null
fi
[ -f "$DLL" ] || { echo "redis-compare.sh: $DLL is not built" >&2; exit 2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# start_server NAME PORT: starts it pinned to core 0 and prints its pid once it answers PING (15 s at most).
start_server() {
  local name="$1" port="$2" pid
  case "$name" in
    selectreactor) taskset -c 0 dotnet "$DLL" --port "$port" --log-level Warning >"$work/$name.log" 2>&1 & pid=$! ;;
    redis) taskset -c 0 redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no --logfile "" >"$work/$name.log" 2>&1 & pid=$! ;;
  esac
  started+=("$pid")
  for _ in $(seq 1 150); do
    if [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; then echo "$pid"; return 0; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "redis-compare.sh: $name did not start; its log:" >&2
  cat "$work/$name.log" >&2
  exit 1
}

stop_server() {
  local pid="$1"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

echo -e "round\tserver\tconfig\ttest\trps\tcpu_s_per_million" >"$tsv"
IFS=',' read -r -a config_list <<<"$configs"
servers=(selectreactor redis)
load="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "load average at start: $load" >&2

for round in $(seq 1 "$rounds"); do
  order=("${servers[@]}")
  if [ $((round % 2)) -eq 0 ]; then order=(redis selectreactor); fi
  for server in "${order[@]}"; do
    port="$(free_port)"
    pid="$(start_server "$server" "$port")"
    for config in "${config_list[@]}"; do
      clients="${config%x*}"
      pipeline="${config#*x}"
      for test in set get; do
        before="$(cpu_ticks "$pid")"
        line="$(taskset -c 1 redis-benchmark -p "$port" -t "$test" -n "$requests" -c "$clients" -P "$pipeline" -r "$keyspace" --csv 2>/dev/null | grep -i "^\"$test\"" | head -n 1)"
        after="$(cpu_ticks "$pid")"
        rps="$(echo "$line" | cut -d, -f2 | tr -d '"')"
        cpu="$(awk -v t=$((after - before)) -v hz="$clk_tck" -v n="$requests" 'BEGIN { printf "%.3f", (t / hz) / (n / 1e6) }')"
        echo -e "$round\t$server\t${clients}x${pipeline}\t$test\t${rps:-0}\t$cpu" >>"$tsv"
        echo "round $round $server -c $clients -P $pipeline $test: ${rps:-?} req/s, ${cpu} CPU s per million" >&2
      done
    done
    stop_server "$pid"
  done
done

{
  echo "# samples/RedisServer against redis-server $(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p')"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load average at start $load; $requests requests per run, -r $keyspace, -d 3,"
  echo "medians of $rounds rounds; servers on core 0, redis-benchmark on core 1. Ratio = SelectReactor / redis-server."
  echo
  echo "| test | config (-c x -P) | SelectReactor req/s | redis-server req/s | ratio | SelectReactor CPU s / M req | redis-server CPU s / M req |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  for config in "${config_list[@]}"; do
    for test in set get; do
      awk -F'\t' -v c="$config" -v t="$test" '
        $3 == c && $4 == t { rps[$2] = rps[$2] " " $5; cpu[$2] = cpu[$2] " " $6 }
        function median(list,   n, a, i, j, x) {
          n = split(list, a, " ")
          for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > x + 0; j--) a[j + 1] = a[j]; a[j + 1] = x }
          return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        END {
          ours = median(rps["selectreactor"]); theirs = median(rps["redis"])
          ratio = (theirs > 0) ? ours / theirs : 0
          printf "| %s | %s | %.0f | %.0f | %.2f | %.2f | %.2f |\n", toupper(t), c, ours, theirs, ratio, median(cpu["selectreactor"]), median(cpu["redis"])
        }' "$tsv"
    done
  done
} >"$results"

if [ "$keys" -gt 0 ]; then
  echo "memory: loading $keys keys into each server..." >&2
  awk -v n="$keys" 'BEGIN { for (i = 0; i < n; i++) { k = sprintf("key:%012d", i); printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$3\r\nxxx\r\n", length(k), k } }' >"$work/load.resp"
  {
    echo
    echo "## Memory for $keys keys (16-byte keys, 3-byte values), loaded with redis-cli --pipe"
    echo
    echo "| server | RSS idle MiB | RSS loaded MiB | growth bytes/key |"
    echo "|---|---:|---:|---:|"
  } >>"$results"
  for server in selectreactor redis; do
    port="$(free_port)"
    pid="$(start_server "$server" "$port")"
    idle="$(rss_kb "$pid")"
    redis-cli -p "$port" --pipe <"$work/load.resp" >/dev/null
    count="$(redis-cli -p "$port" dbsize)"
    sleep 1 # let a collection that the load started finish before reading the resident size
    loaded="$(rss_kb "$pid")"
    awk -v s="$server" -v i="$idle" -v l="$loaded" -v n="$count" 'BEGIN { printf "| %s | %.1f | %.1f | %.0f |\n", s, i / 1024, l / 1024, (l - i) * 1024 / n }' >>"$results"
    stop_server "$pid"
  done
fi

if [ "$do_strace" -eq 1 ]; then
  batches=10000
  echo "strace: $batches batches of 16 pipelined GETs over 50 connections against each server..." >&2
  {
    echo
    echo "## Syscalls per pipelined batch (redis-benchmark -t get -c 50 -P 16, $batches batches, strace -c -f)"
    echo
    echo "| server | all syscalls / batch | sends / batch | receives / batch | polls / batch |"
    echo "|---|---:|---:|---:|---:|"
  } >>"$results"
  for server in selectreactor redis; do
    port="$(free_port)"
    pid="$(start_server "$server" "$port")"
    redis-cli -p "$port" set key:000000000000 xxx >/dev/null
    strace -c -f -q -o "$work/$server.strace" -p "$pid" & strace_pid=$!
    started+=("$strace_pid")
    sleep 1 # strace attaches to every thread before the load starts
    taskset -c 1 redis-benchmark -p "$port" -t get -n $((batches * 16)) -c 50 -P 16 -r 1 -q >/dev/null 2>&1
    kill -INT "$strace_pid" 2>/dev/null || true
    wait "$strace_pid" 2>/dev/null || true
    awk -v s="$server" -v b="$batches" '
      $NF ~ /^(sendto|sendmsg|write|writev)$/ { send += $4 }
      $NF ~ /^(recvfrom|recvmsg|read|readv)$/ { recv += $4 }
      $NF ~ /^(poll|ppoll|select|pselect6|epoll_wait|epoll_pwait)$/ { poll += $4 }
      $NF == "total" { total = $4 }
      END { printf "| %s | %.2f | %.2f | %.2f | %.2f |\n", s, total / b, send / b, recv / b, poll / b }' "$work/$server.strace" >>"$results"
    stop_server "$pid"
  done
fi

if [ "$do_alloc" -eq 1 ]; then
  echo "allocation: running the deterministic allocation tests..." >&2
  {
    echo
    echo "## Allocation on the reactor thread (deterministic, from the test suite)"
    echo
    dotnet test "$ROOT/tests/SelectReactor.Tests" -c Release -nologo \
      --filter "FullyQualifiedName~RedisAllocationTests|FullyQualifiedName~FramingAllocationTests" \
      --logger "console;verbosity=detailed" 2>/dev/null | grep -E 'B/(frame|request|await)' | sort -u | sed 's/^ */- /'
  } >>"$results"
fi

cat "$results"
echo "results: $results (per run: $tsv)" >&2
