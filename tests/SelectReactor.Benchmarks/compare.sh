#!/usr/bin/env bash
# compare.sh - end-to-end echo comparison: samples/EchoServer (SelectReactor) against the baselines in
# tests/Baselines, under one load client, in one command. See README.md beside this file.
#
# Every server runs pinned to one core (taskset -c 0), the load client to the other (taskset -c 1). For each load,
# the servers take turns, in a rotated order each round, and every run starts a fresh server process, so that its
# peak RSS belongs to that load alone. The table reports medians over the rounds.
#
# Per run: msgs/s, MiB/s, p50 and p99 from the client's RESULT line; server CPU seconds per million messages from
# utime+stime in /proc/PID/stat, sampled every 50 ms and interpolated at the client's measured window; peak RSS
# from VmHWM in /proc/PID/status. Everything started here is stopped here (trap on exit), and every wait is bounded.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT_DIR="$ROOT/artifacts/bench"
BIN_DIR="$OUT_DIR/bin"

usage() {
  cat <<'EOF'
usage: tests/SelectReactor.Benchmarks/compare.sh [options]

  --client LIST        echoload, echoclient or both, comma-separated (default echoload)
  --servers LIST       selectreactor,async,select,epoll,node (default: all of them)
  --configs LIST       pp1,pp50,pp1000,pp10000,stream10 (default: all); ppN = ping-pong 64 B over N connections,
                       streamN = streaming 16 KiB messages over N connections
  --duration SECONDS   measured time per run (default 5)
  --warmup SECONDS     unmeasured time per run once every connection is up (default 1)
  --rounds N           rounds; servers alternate within each (default 3)
  --connect-rate N     new connections per second (default 5000)
  --client-threads N   echoclient only: reactors in the client (default 1)
  --no-verify          do not compare every echoed byte (verification is on by default)
  --no-build           use what is already built
  --results FILE       where to write the markdown (default artifacts/bench/compare-DATE.md)
  --cross-check        EchoClient against echoload, same server and load: --client echoload,echoclient
                       --servers selectreactor --configs pp50
  --strace             instead of the comparison: syscalls per message of each server under strace -c -f, while
                       EchoClient sends a fixed number of ping-pong messages (default servers: selectreactor)
  --strace-messages N  messages for --strace (default 50000), over --strace-conns (default 50)
  --idle LIST          instead of the comparison: the idle-connection comparison, once for each count of idle
                       connections in LIST (e.g. 10000,50000), held by idlehold (default servers: selectreactor,
                       select,epoll). Per server and round, one fresh server process: ping-pong 64 B over
                       --idle-active connections alone, then N idle held, the server's CPU with nothing active,
                       then the same ping-pong with the N idle held while idlehold times the first echo on
                       --idle-probes long-idle connections
  --idle-active N      active connections in --idle (default 50)
  --idle-window S      seconds of server CPU measured with every connection idle (default 10)
  --idle-probes K      first-echo probes on long-idle connections (default 120)
  --set-port-range     if net.ipv4.ip_local_port_range is too narrow for an --idle count, widen it to 1024-65535
                       for the run and restore it on exit (root only; it is a machine-wide setting)
  --ref REF            also run server selectreactor-ref: samples/EchoServer built from git REF (git archive into
                       $TMPDIR/selectreactor-ref/SHA), to measure a change against the code before it in one run
  --idlehold-src FILE  idlehold.c (default ../shared/bench/idlehold.c beside the repository)
  --proto-args ARGS    options for the prototype servers proto-naive, proto-tiered, proto-helper (IdleLab/, the
                       measurements behind the design for idle connections; see RESULTS.md)
  --echoload-src FILE  echoload.c (default ../shared/bench/echoload.c beside the repository)
  --tls                the TLS comparison instead: samples/EchoServer --tls-cert against a .NET async/await SslStream
                       server (tests/Baselines/AsyncTlsEchoServer), servers selectreactor,async, configs
                       pp1,pp50,stream10 by default; a fresh self-signed certificate; adds the handshake p50 and a
                       closing note on the targets (ping-pong 50 >= 1.5x async, streaming 10 >= 1.0x)
  -h, --help           this text

Needs: the .NET 10 SDK, gcc, node (for the node server), taskset, strace for --strace; openssl and libssl-dev
(echoload --tls) for --tls. --idle N needs, per process, a descriptor limit of N + 1,000 (the script raises the soft
limit up to the hard one, and tries prlimit for more), an ephemeral port range of N + 1,000 ports
(net.ipv4.ip_local_port_range; see --set-port-range) and net.core.somaxconn >= 512; it says which is missing and
skips that count.
EOF
}

clients="echoload"
servers="selectreactor,async,select,epoll,node"
servers_given=0
configs="pp1,pp50,pp1000,pp10000,stream10"
duration=5
warmup=1
rounds=3
connect_rate=5000
client_threads=1
verify=1
build=1
results=""
mode="compare"
strace_messages=50000
strace_conns=50
echoload_src="$ROOT/../shared/bench/echoload.c"
idlehold_src="$ROOT/../shared/bench/idlehold.c"
idle_counts=""
idle_active=50
idle_window=10
idle_probes=120
set_port_range=0
ORIG_PORT_RANGE="" # what --set-port-range changed, restored on exit
ref=""
proto_args=""
tls=0
configs_given=0

need_value() { [ "$#" -ge 2 ] || { echo "compare.sh: $1 needs a value" >&2; usage >&2; exit 2; }; }
while [ "$#" -gt 0 ]; do
  case "$1" in
    --client) need_value "$@"; clients="$2"; shift 2 ;;
    --servers) need_value "$@"; servers="$2"; servers_given=1; shift 2 ;;
    --configs) need_value "$@"; configs="$2"; configs_given=1; shift 2 ;;
    --duration) need_value "$@"; duration="$2"; shift 2 ;;
    --warmup) need_value "$@"; warmup="$2"; shift 2 ;;
    --rounds) need_value "$@"; rounds="$2"; shift 2 ;;
    --connect-rate) need_value "$@"; connect_rate="$2"; shift 2 ;;
    --client-threads) need_value "$@"; client_threads="$2"; shift 2 ;;
    --no-verify) verify=0; shift ;;
    --no-build) build=0; shift ;;
    --results) need_value "$@"; results="$2"; shift 2 ;;
    --cross-check) clients="echoload,echoclient"; servers="selectreactor"; servers_given=1; configs="pp50"; shift ;;
    --strace) mode="strace"; shift ;;
    --strace-messages) need_value "$@"; strace_messages="$2"; shift 2 ;;
    --strace-conns) need_value "$@"; strace_conns="$2"; shift 2 ;;
    --echoload-src) need_value "$@"; echoload_src="$2"; shift 2 ;;
    --idlehold-src) need_value "$@"; idlehold_src="$2"; shift 2 ;;
    --idle) need_value "$@"; mode="idle"; idle_counts="$2"; shift 2 ;;
    --idle-active) need_value "$@"; idle_active="$2"; shift 2 ;;
    --idle-window) need_value "$@"; idle_window="$2"; shift 2 ;;
    --idle-probes) need_value "$@"; idle_probes="$2"; shift 2 ;;
    --set-port-range) set_port_range=1; shift ;;
    --ref) need_value "$@"; ref="$2"; shift 2 ;;
    --proto-args) need_value "$@"; proto_args="$2"; shift 2 ;;
    --tls) tls=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compare.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
if [ "$mode" = "strace" ] && [ "$servers_given" -eq 0 ]; then servers="selectreactor"; fi
if [ "$mode" = "idle" ] && [ "$servers_given" -eq 0 ]; then servers="selectreactor,select,epoll"; fi
if [ -n "$ref" ] && [[ ",$servers," != *,selectreactor-ref,* ]]; then servers="$servers,selectreactor-ref"; fi
if [ "$tls" -eq 1 ]; then
  [ "$servers_given" -eq 1 ] || servers="selectreactor,async"
  [ "$configs_given" -eq 1 ] || configs="pp1,pp50,stream10"
  [ "$mode" = compare ] || { echo "compare.sh: --tls compares; it does not combine with --strace or --idle" >&2; exit 2; }
fi

is_number() { [[ "$1" =~ ^[0-9]+([.][0-9]+)?$ ]]; }
for v in "$duration" "$warmup" "$connect_rate"; do is_number "$v" || { echo "compare.sh: not a number: $v" >&2; exit 2; }; done
for v in "$idle_window"; do is_number "$v" || { echo "compare.sh: not a number: $v" >&2; exit 2; }; done
for v in "$rounds" "$client_threads" "$strace_messages" "$strace_conns" "$idle_active" "$idle_probes" ${idle_counts//,/ }; do
  [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: not a positive integer: $v" >&2; exit 2; }
done

IFS=, read -r -a CLIENTS <<<"$clients"
IFS=, read -r -a SERVERS <<<"$servers"
IFS=, read -r -a CONFIGS <<<"$configs"

# ---------------------------------------------------------------- what is measured
server_path() {
  if [ "$tls" -eq 1 ]; then
    case "$1" in
      selectreactor) echo "$ROOT/samples/EchoServer/bin/Release/net10.0/EchoServer" ;;
      async) echo "$ROOT/tests/Baselines/AsyncTlsEchoServer/bin/Release/net10.0/AsyncTlsEchoServer" ;;
      selectreactor-ref) [ -n "$ref" ] || return 1; echo "$REF_DIR/samples/EchoServer/bin/Release/net10.0/EchoServer" ;;
      *) return 1 ;; # the other baselines speak no TLS
    esac
    return 0
  fi
  case "$1" in
    selectreactor) echo "$ROOT/samples/EchoServer/bin/Release/net10.0/EchoServer" ;;
    async) echo "$ROOT/tests/Baselines/AsyncEchoServer/bin/Release/net10.0/AsyncEchoServer" ;;
    select) echo "$ROOT/tests/Baselines/SelectEchoServer/bin/Release/net10.0/SelectEchoServer" ;;
    epoll) echo "$BIN_DIR/epoll_echo" ;;
    node) echo "$ROOT/tests/Baselines/node/echo.js" ;;
    selectreactor-ref) [ -n "$ref" ] || return 1; echo "$REF_DIR/samples/EchoServer/bin/Release/net10.0/EchoServer" ;;
    proto-naive|proto-tiered|proto-helper) echo "$ROOT/tests/SelectReactor.Benchmarks/bin/Release/net10.0/SelectReactor.Benchmarks" ;;
    *) return 1 ;;
  esac
}

# The command line of server $1, listening on a free port.
server_command() {
  local path
  path="$(server_path "$1")"
  case "$1" in
    selectreactor|selectreactor-ref) SERVER_CMD=("$path" --port 0 --max-connections "$SAMPLE_MAX_CONNECTIONS" --log-level Warning) ;;
    node) SERVER_CMD=(node "$path" --port 0) ;;
    proto-*) SERVER_CMD=("$path" idle-lab echo --design "${1#proto-}" --port 0 $proto_args) ;;
    *) SERVER_CMD=("$path" --port 0) ;;
  esac
  if [ "$tls" -eq 1 ]; then SERVER_CMD+=(--tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem"); fi
}

server_label() {
  if [ "$tls" -eq 1 ]; then
    case "$1" in
      selectreactor) echo "SelectReactor TLS (EchoServer --tls-cert)" ;;
      async) echo ".NET async/await SslStream (AsyncTlsEchoServer)" ;;
      selectreactor-ref) echo "SelectReactor TLS at $REF_SHA ($ref)" ;;
    esac
    return 0
  fi
  case "$1" in
    selectreactor) echo "SelectReactor (samples/EchoServer)" ;;
    selectreactor-ref) echo "SelectReactor at $REF_SHA ($ref)" ;;
    proto-*) echo "prototype: ${1#proto-} (IdleLab)" ;;
    async) echo ".NET async/await (AsyncEchoServer)" ;;
    select) echo ".NET hand-written Socket.Select (SelectEchoServer)" ;;
    epoll) echo "C epoll (epoll_echo.c)" ;;
    node) echo "Node.js net (echo.js)" ;;
  esac
}

# Sets MODE SIZE CONNS for a configuration name.
parse_config() {
  case "$1" in
    pp[0-9]*) MODE=pingpong; SIZE=64; CONNS="${1#pp}" ;;
    stream[0-9]*) MODE=stream; SIZE=16384; CONNS="${1#stream}" ;;
    *) echo "compare.sh: unknown configuration $1 (ppN or streamN)" >&2; exit 2 ;;
  esac
  [[ "$CONNS" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: bad connection count in $1" >&2; exit 2; }
}

config_label() {
  parse_config "$1"
  if [ "$MODE" = pingpong ]; then echo "ping-pong 64 B, $CONNS conn"; else echo "stream 16 KiB, $CONNS conn"; fi
}

REF_SHA=""
REF_DIR=""
if [ -n "$ref" ]; then
  REF_SHA="$(git -C "$ROOT" rev-parse --short=10 "$ref^{commit}" 2>/dev/null)" || { echo "compare.sh: --ref $ref is not a commit" >&2; exit 2; }
  # Outside the repository: a second copy of the projects below it would confuse tools that search for a project
  # by name (BenchmarkDotNet stops with "more than one matching project file").
  REF_DIR="${TMPDIR:-/tmp}/selectreactor-ref/$REF_SHA"
fi
for s in "${SERVERS[@]}"; do
  server_path "$s" >/dev/null || { echo "compare.sh: unknown server $s$([ "$tls" -eq 1 ] && echo ' (with --tls: selectreactor, async)') (selectreactor-ref needs --ref)" >&2; exit 2; }
done
for c in "${CLIENTS[@]}"; do
  case "$c" in echoload|echoclient) ;; *) echo "compare.sh: unknown client $c" >&2; exit 2 ;; esac
done
max_conns=1
if [ "$mode" = idle ]; then
  IFS=, read -r -a IDLE_COUNTS <<<"$idle_counts"
  for n in "${IDLE_COUNTS[@]}"; do [ $((n + idle_active)) -gt "$max_conns" ] && max_conns=$((n + idle_active)); done
else
  for c in "${CONFIGS[@]}"; do parse_config "$c"; [ "$CONNS" -gt "$max_conns" ] && max_conns="$CONNS"; done
fi
# The sample refuses connections beyond --max-connections: room for every connection of the largest load.
SAMPLE_MAX_CONNECTIONS=$((max_conns + 1000 > 20000 ? max_conns + 1000 : 20000))

# ---------------------------------------------------------------- descriptors
# Each process needs a descriptor per connection plus its own (the .NET runtime keeps ~2 per loaded assembly).
# Raise the soft limit as far as the hard limit allows, for this script and so for every process it starts; if the
# hard limit is too low, try to raise it too (prlimit, which needs CAP_SYS_RESOURCE).
want_fds=$((max_conns + 1000 > 25000 ? max_conns + 1000 : 25000))
hard_fds="$(ulimit -Hn)"
if [ "$hard_fds" != unlimited ] && [ "$hard_fds" -lt "$want_fds" ]; then
  prlimit --pid $$ --nofile="$want_fds:$want_fds" 2>/dev/null || true
  hard_fds="$(ulimit -Hn)"
fi
if [ "$hard_fds" = unlimited ] || [ "$hard_fds" -ge "$want_fds" ]; then ulimit -n "$want_fds"; else ulimit -n "$hard_fds"; fi
if [ "$mode" != idle ] && [ "$(ulimit -n)" -lt $((max_conns + 1000)) ]; then
  echo "compare.sh: $max_conns connections need at least $((max_conns + 1000)) descriptors per process;" \
       "the hard limit is $hard_fds (raise it, e.g. in /etc/security/limits.conf or with prlimit)" >&2
  exit 2
fi

# ---------------------------------------------------------------- build
mkdir -p "$BIN_DIR"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if [ "$build" -eq 1 ]; then
  echo "compare.sh: building (Release)" >&2
  projects="samples/EchoServer samples/EchoClient tests/Baselines/AsyncEchoServer tests/Baselines/SelectEchoServer tests/Baselines/AsyncTlsEchoServer"
  [[ ",$servers," == *,proto-* ]] && projects+=" tests/SelectReactor.Benchmarks"
  for p in $projects; do
    dotnet build "$ROOT/$p" -c Release -nologo -v quiet >&2
  done
  gcc -O2 -Wall -o "$BIN_DIR/epoll_echo" "$ROOT/tests/Baselines/c/epoll_echo.c"
  if [ -f "$echoload_src" ]; then
    # With OpenSSL's headers echoload speaks TLS too (--tls); without them, plain only.
    if [ -f /usr/include/openssl/ssl.h ]; then
      gcc -O2 -Wall -o "$BIN_DIR/echoload" "$echoload_src" -lssl -lcrypto
    else
      gcc -O2 -Wall -DNO_TLS -o "$BIN_DIR/echoload" "$echoload_src"
    fi
  fi
  if [ "$mode" = idle ] && [ -f "$idlehold_src" ]; then
    gcc -O2 -Wall -o "$BIN_DIR/idlehold" "$idlehold_src"
  fi
  if [ -n "$ref" ]; then
    # The reference build: the tree at REF, unpacked with git archive (not a git worktree: nothing in the
    # repository changes) and built once per commit.
    if [ ! -x "$(server_path selectreactor-ref)" ]; then
      echo "compare.sh: building samples/EchoServer at $REF_SHA ($ref) in $REF_DIR" >&2
      rm -rf "$REF_DIR" && mkdir -p "$REF_DIR"
      git -C "$ROOT" archive "$REF_SHA" | tar -x -C "$REF_DIR"
      dotnet build "$REF_DIR/samples/EchoServer" -c Release -nologo -v quiet >&2
    fi
  fi
fi
if [ "$mode" = idle ] && [ ! -x "$BIN_DIR/idlehold" ]; then
  echo "compare.sh: idlehold is not built and $idlehold_src is missing (--idlehold-src)" >&2
  exit 2
fi
if [ -n "$ref" ] && [ ! -x "$(server_path selectreactor-ref)" ]; then
  echo "compare.sh: the reference server is not built: $(server_path selectreactor-ref) (run without --no-build)" >&2
  exit 2
fi
for c in "${CLIENTS[@]}"; do
  if [ "$c" = echoload ] && [ ! -x "$BIN_DIR/echoload" ]; then
    echo "compare.sh: echoload is not built and $echoload_src is missing (--echoload-src, or --client echoclient)" >&2
    exit 2
  fi
done
ECHOCLIENT="$ROOT/samples/EchoClient/bin/Release/net10.0/EchoClient"

# ---------------------------------------------------------------- cleanup
WORK="$(mktemp -d "${TMPDIR:-/tmp}/compare.XXXXXX")"
declare -a STARTED=()
# Kills what this script started, children first: a server under strace is strace's child, and killing strace
# alone would leave it running.
kill_tree() {
  local pid="$1" child children=""
  children="$(cat /proc/"$pid"/task/*/children 2>/dev/null || true)"
  for child in $children; do kill_tree "$child"; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  local pid
  for pid in "${STARTED[@]}"; do kill_tree "$pid"; done
  if [ -n "$ORIG_PORT_RANGE" ]; then echo "$ORIG_PORT_RANGE" >/proc/sys/net/ipv4/ip_local_port_range || true; fi
  rm -rf "$WORK"
}
# Once a process is reaped its id may be reused: stop tracking it.
forget() {
  local pid kept=()
  for pid in "${STARTED[@]}"; do [ "$pid" = "$1" ] || kept+=("$pid"); done
  STARTED=("${kept[@]}")
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$tls" -eq 1 ]; then
  # A fresh self-signed development certificate for this run (never kept).
  command -v openssl >/dev/null || { echo "compare.sh: --tls needs openssl (apt-get install -y openssl)" >&2; exit 2; }
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
    -days 2 -subj /CN=localhost 2>/dev/null
  if [ "$build" -eq 1 ] && [ ! -f /usr/include/openssl/ssl.h ]; then
    echo "compare.sh: --tls needs echoload built with OpenSSL (apt-get install -y libssl-dev)" >&2; exit 2
  fi
fi

# Starts "${SERVER_CMD[@]}" pinned to core 0, optionally under a prefix; sets SERVER_PID and SERVER_PORT.
start_server() {
  local out="$WORK/server.out" i
  : >"$out"
  taskset -c 0 "$@" >"$out" 2>"$WORK/server.err" &
  SERVER_PID=$!
  STARTED+=("$SERVER_PID")
  SERVER_PORT=""
  for ((i = 0; i < 300; i++)); do
    SERVER_PORT="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$out")"
    [ -n "$SERVER_PORT" ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "compare.sh: the server did not print 'listening on 127.0.0.1:PORT': $*" >&2
  cat "$WORK/server.err" >&2
  return 1
}

# SIGTERM, up to 5 s for a clean exit, then SIGKILL.
stop_server() {
  local pid="$1" i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill_tree "$pid"
  wait "$pid" 2>/dev/null || true
  forget "$pid"
}

# utime+stime of $1 in clock ticks, every 50 ms into $2, while $3 exists; bounded by $4 samples.
sample_cpu() {
  local pid="$1" out="$2" flag="$3" max="$4" i stat
  for ((i = 0; i < max; i++)); do
    [ -e "$flag" ] || break
    read -r stat <"/proc/$pid/stat" 2>/dev/null || break
    stat="${stat##*) }"
    set -- $stat
    echo "$EPOCHREALTIME $((${12} + ${13}))"
    sleep 0.05
  done >"$out"
}

# CPU seconds of the sampled process between wall times $2 and $3, interpolated from the samples in $1.
cpu_between() {
  awk -v a="$2" -v b="$3" -v hz="$(getconf CLK_TCK)" '
    function at(t,   i) {
      if (t <= T[1]) return C[1]
      for (i = 2; i <= n; i++) if (T[i] >= t) return C[i-1] + (C[i] - C[i-1]) * (t - T[i-1]) / (T[i] - T[i-1])
      return C[n]
    }
    { n++; T[n] = $1; C[n] = $2 }
    END { if (n < 2 || b > T[n] + 0.2) { print "NA"; exit } printf "%.4f", (at(b) - at(a)) / hz }' "$1"
}

# The value of key $2 in a RESULT line $1.
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }

# ---------------------------------------------------------------- one run
RAW=""
run_one() { # server config client round
  local server="$1" config="$2" client="$3" round="$4"
  parse_config "$config"
  server_command "$server"
  if ! start_server "${SERVER_CMD[@]}"; then
    printf '%s\t%s\t%s\t%s\tNA\tNA\tNA\tNA\tNA\tNA\tstart-failed\tNA\tNA\n' "$config" "$server" "$client" "$round" >>"$RAW"
    stop_server "$SERVER_PID"
    return
  fi

  local -a args=(--port "$SERVER_PORT" --conns "$CONNS" --size "$SIZE" --mode "$MODE" --duration "$duration"
    --warmup "$warmup" --connect-rate "$connect_rate" --connect-timeout 60)
  [ "$verify" -eq 1 ] && args+=(--verify)
  [ "$tls" -eq 1 ] && args+=(--tls)
  local -a cmd
  if [ "$client" = echoload ]; then cmd=("$BIN_DIR/echoload" "${args[@]}"); else cmd=("$ECHOCLIENT" "${args[@]}" --threads "$client_threads"); fi

  local flag="$WORK/sampling" samples="$WORK/cpu.samples" max_samples
  max_samples=$(awk -v d="$duration" -v w="$warmup" 'BEGIN { printf "%d", (d + w + 150) * 20 }')
  : >"$flag"
  sample_cpu "$SERVER_PID" "$samples" "$flag" "$max_samples" &
  local sampler=$!
  STARTED+=("$sampler")
  sleep 0.1 # a first sample before the client starts

  local launched rc=0
  launched="$EPOCHREALTIME"
  taskset -c 1 "${cmd[@]}" >"$WORK/client.out" 2>"$WORK/client.err" || rc=$?
  local rss
  rss="$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$SERVER_PID/status" 2>/dev/null || echo NA)"
  rm -f "$flag"
  wait "$sampler" 2>/dev/null || true
  forget "$sampler"
  stop_server "$SERVER_PID"

  local line
  line="$(grep '^RESULT ' "$WORK/client.out" | tail -n 1 || true)"
  if [ -z "$line" ]; then
    echo "compare.sh: $client printed no RESULT line against $server ($config, exit $rc):" >&2
    head -n 5 "$WORK/client.err" >&2
    printf '%s\t%s\t%s\t%s\tNA\tNA\tNA\tNA\tNA\t%s\tno-result\tNA\tNA\n' "$config" "$server" "$client" "$round" "${rss:-NA}" >>"$RAW"
    return
  fi
  if [ "$rc" -ne 0 ]; then
    echo "compare.sh: $client reported errors against $server ($config):" >&2
    head -n 5 "$WORK/client.err" >&2
  fi

  # The measured window on this clock: launch + runtime start-up + connecting + warm-up, then --duration.
  local startup connect_s from to cpu per_million msgs
  startup="$(field "$line" startup_s)"
  connect_s="$(field "$line" connect_s)"
  from="$(awk -v l="$launched" -v s="${startup:-0}" -v c="$connect_s" -v w="$warmup" 'BEGIN { printf "%.6f", l + s + c + w }')"
  to="$(awk -v f="$from" -v d="$duration" 'BEGIN { printf "%.6f", f + d }')"
  cpu="$(cpu_between "$samples" "$from" "$to")"
  msgs="$(field "$line" msgs)"
  per_million="$(awk -v c="$cpu" -v m="$msgs" 'BEGIN { if (c == "NA" || m + 0 == 0) print "NA"; else printf "%.3f", c / (m / 1e6) }')"
  local handshake
  handshake="$(field "$line" handshake_ms_p50)"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$config" "$server" "$client" "$round" \
    "$(field "$line" msgs_per_s)" "$(field "$line" MiB_per_s)" "$(field "$line" p50_us)" "$(field "$line" p99_us)" \
    "$per_million" "$rss" "$(field "$line" errors)" "$connect_s" "${handshake:-NA}" >>"$RAW"
  printf 'compare.sh: %-8s %-13s %-10s round %s: %s msgs/s, p99 %s us, CPU %s s/M msgs, RSS %s MiB, errors %s, connect %s s\n' \
    "$config" "$server" "$client" "$round" "$(field "$line" msgs_per_s)" "$(field "$line" p99_us)" "$per_million" "$rss" \
    "$(field "$line" errors)" "$connect_s" >&2
}

# ---------------------------------------------------------------- the markdown
machine_header() {
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null || echo ' (with local changes)')"
  echo "- machine: $(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1), kernel $(uname -r); load average at start: $LOAD_AT_START"
  echo "- .NET $(dotnet --version 2>/dev/null || echo '?'), node $(node --version 2>/dev/null || echo '?'), $(gcc --version | head -n 1)"
}

# Median per (config, server, client) of each column; NA values ignored. $1: show a client column.
medians_table() {
  local labels="" names="" c s
  for c in "${CONFIGS[@]}"; do labels+="$c=$(config_label "$c");"; done
  for s in "${SERVERS[@]}"; do names+="$s=$(server_label "$s");"; done
  awk -F'\t' -v show_client="$1" -v labels="$labels" -v names="$names" -v tls="$tls" '
    BEGIN {
      n = split(labels, a, ";"); for (i = 1; i <= n; i++) if (split(a[i], kv, "=") == 2) LOAD[kv[1]] = kv[2]
      n = split(names, a, ";"); for (i = 1; i <= n; i++) if (split(a[i], kv, "=") == 2) NAME[kv[1]] = kv[2]
    }
    function median(key, col,   n, i, j, t, a) {
      n = split(V[key, col], a, " ")
      if (n == 0) return "NA"
      for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j+1] = a[j]; a[j+1] = t }
      return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function commas(x,   s, r) {
      if (x == "NA") return x
      s = sprintf("%.0f", x); r = ""
      while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
      return s r
    }
    function fmt(x, f) { return x == "NA" ? x : sprintf(f, x) }
    {
      key = $1 SUBSEP $2 SUBSEP $3
      if (!(key in seen)) { seen[key] = 1; order[++k] = key }
      runs[key]++
      if ($11 !~ /^[0-9]+$/) failed[key]++; else errors[key] += $11
      for (c = 5; c <= 13; c++) if (c != 11 && $c != "NA" && $c != "") V[key, c] = V[key, c] " " $c
    }
    END {
      hs_head = tls ? " handshake p50 ms |" : ""
      hs_rule = tls ? "---:|" : ""
      if (show_client) {
        print "| load | server | client | msgs/s | MiB/s | p50 µs | p99 µs | server CPU s per M msgs | server peak RSS MiB | connect s |" hs_head " errors | runs |"
        print "|---|---|---|---:|---:|---:|---:|---:|---:|---:|" hs_rule "---:|---:|"
      } else {
        print "| load | server | msgs/s | × SelectReactor | MiB/s | p50 µs | p99 µs | server CPU s per M msgs | server peak RSS MiB | connect s |" hs_head " errors | runs |"
        print "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|" hs_rule "---:|---:|"
      }
      for (i = 1; i <= k; i++) {
        key = order[i]; split(key, p, SUBSEP)
        m = median(key, 5)
        ref = median(p[1] SUBSEP "selectreactor" SUBSEP p[3], 5)
        ratio = (m == "NA" || ref == "NA" || ref + 0 == 0) ? "NA" : sprintf("%.2f", m / ref)
        bad = failed[key] ? sprintf(" (+%d failed)", failed[key]) : ""
        row = "| " LOAD[p[1]] " | " NAME[p[2]] " | "
        if (show_client) row = row p[3] " | " commas(m) " | "
        else row = row commas(m) " | " ratio " | "
        row = row fmt(median(key, 6), "%.1f") " | " fmt(median(key, 7), "%.0f") " | " fmt(median(key, 8), "%.0f") " | "
        row = row fmt(median(key, 9), "%.2f") " | " fmt(median(key, 10), "%.0f") " | " fmt(median(key, 12), "%.2f") " | "
        if (tls) row = row fmt(median(key, 13), "%.1f") " | "
        row = row errors[key] + 0 bad " | " runs[key] " |"
        print row
      }
    }' "$RAW"
}

# ---------------------------------------------------------------- strace mode
run_strace() {
  command -v strace >/dev/null || { echo "compare.sh: strace is not installed" >&2; exit 2; }
  local server report="$WORK/strace.md"
  {
    echo "## Syscalls per message (strace -c -f)"
    echo
    machine_header
    echo "- load: EchoClient, ping-pong 64 B, $strace_conns connections, exactly $strace_messages messages (--messages), pinned to core 1"
    echo "- counted: every thread of the server process, start-up to exit, minus the same server started and stopped with no load"
    echo
    echo "| server | syscall | calls under load | calls idle | per message |"
    echo "|---|---|---:|---:|---:|"
  } >"$report"
  for server in "${SERVERS[@]}"; do
    server_command "$server"
    local pid child i pass
    # Idle: start, wait for the line, stop. What remains after subtracting it is the cost of the load.
    for pass in idle load; do
      local out="$WORK/strace.$pass"
      start_server strace -f -c -o "$out" "${SERVER_CMD[@]}" || { stop_server "$SERVER_PID"; continue 2; }
      pid="$SERVER_PID"
      child=""
      for ((i = 0; i < 50; i++)); do
        read -r child _ <"/proc/$pid/task/$pid/children" 2>/dev/null || true
        [ -n "$child" ] && break
        sleep 0.1
      done
      if [ "$pass" = load ]; then
        taskset -c 1 "$ECHOCLIENT" --port "$SERVER_PORT" --conns "$strace_conns" --size 64 --mode pingpong \
          --messages "$strace_messages" --duration 120 --verify >"$WORK/client.out" 2>"$WORK/client.err" \
          || { echo "compare.sh: EchoClient failed under strace ($server):" >&2; head -n 5 "$WORK/client.err" >&2; }
        echo "compare.sh: strace $server: $(cut -c1-120 "$WORK/client.out")" >&2
      fi
      # SIGTERM to the server itself (strace's child); strace writes its summary when the server exits.
      [ -n "$child" ] && kill -TERM "$child" 2>/dev/null || true
      for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      stop_server "$pid"
    done
    # strace -c table: "% time seconds usecs/call calls [errors] syscall"; the syscall is the last field.
    awk -v server="$(server_label "$server")" -v msgs="$strace_messages" '
      FNR == NR { if ($NF ~ /^[a-z_0-9]+$/ && $1 ~ /^[0-9.]+$/ && $NF != "total") I[$NF] = $4; next }
      $NF ~ /^[a-z_0-9]+$/ && $1 ~ /^[0-9.]+$/ && $NF != "total" { L[$NF] = $4 }
      END {
        for (s in L) { d = L[s] - I[s]; if (d / msgs >= 0.005) printf "%s\t%d\t%d\t%.3f\n", s, L[s], I[s] + 0, d / msgs; tl += L[s]; ti += I[s] }
        printf "zz_total\t%d\t%d\t%.3f\n", tl, ti, (tl - ti) / msgs
      }' "$WORK/strace.idle" "$WORK/strace.load" | sort -t$'\t' -k4,4gr \
      | awk -F'\t' -v server="$(server_label "$server")" '
          $1 == "zz_total" { total = $0; next }
          { printf "| %s | %s | %s | %s | %s |\n", server, $1, $2, $3, $4 }
          END { split(total, t, "\t"); printf "| %s | **all** | %s | %s | **%s** |\n", server, t[2], t[3], t[4] }' >>"$report"
  done
  cat "$report"
  [ -n "$results" ] || results="$OUT_DIR/strace-$(date -u +%Y%m%d-%H%M%S).md"
  cp "$report" "$results"
  echo "compare.sh: written to $results" >&2
}

# ---------------------------------------------------------------- idle mode
# Whether N idle connections (plus the active ones) fit on this machine: descriptors per process, ephemeral ports
# (every idle connection goes from 127.0.0.1 to the server's one port, so each needs its own client port) and the
# accept backlog (idlehold connects in bursts of 500). Says what is missing and returns 1 if something is.
idle_fits() {
  local n="$1" need=$(($1 + idle_active + 1000)) fits=0 soft lo hi somaxconn
  soft="$(ulimit -n)"
  if [ "$soft" != unlimited ] && [ "$soft" -lt "$need" ]; then
    echo "compare.sh: skipping $n idle: the server and idlehold each need $need descriptors, and the limit is $soft" \
         "(hard $(ulimit -Hn)). Raise the hard limit (as root with CAP_SYS_RESOURCE: prlimit --pid \$\$ --nofile=$need:$need;" \
         "or /etc/security/limits.conf, or LimitNOFILE= in a systemd unit) and run again" >&2
    fits=1
  fi
  read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
  if [ $((hi - lo + 1)) -lt "$need" ] && [ "$set_port_range" -eq 1 ] && [ -z "$ORIG_PORT_RANGE" ]; then
    ORIG_PORT_RANGE="$lo $hi"
    if echo "1024 65535" >/proc/sys/net/ipv4/ip_local_port_range 2>/dev/null; then
      echo "compare.sh: net.ipv4.ip_local_port_range widened from $lo-$hi to 1024-65535 for this run" >&2
      read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
    else
      ORIG_PORT_RANGE=""
    fi
  fi
  if [ $((hi - lo + 1)) -lt "$need" ]; then
    echo "compare.sh: skipping $n idle: it needs $need ephemeral ports and net.ipv4.ip_local_port_range is $lo-$hi" \
         "($((hi - lo + 1)) ports). Widen it (sysctl -w net.ipv4.ip_local_port_range='1024 65535'), or pass --set-port-range" >&2
    fits=1
  fi
  somaxconn="$(cat /proc/sys/net/core/somaxconn)"
  if [ "$somaxconn" -lt 512 ]; then
    echo "compare.sh: warning: net.core.somaxconn is $somaxconn, below idlehold's bursts of 500 connects: the" \
         "servers' backlogs overflow and connects wait for SYN retransmits (sysctl -w net.core.somaxconn=4096)" >&2
  fi
  return $fits
}

# utime+stime of process $1, in clock ticks.
cpu_ticks() {
  local stat
  read -r stat <"/proc/$1/stat" 2>/dev/null || { echo NA; return; }
  stat="${stat##*) }"
  set -- $stat
  echo $((${12} + ${13}))
}

# echoload, ping-pong 64 B over $2 connections against port $1, pinned to core 1; sets LINE to its RESULT line
# (empty if it printed none) and CPU_US to the server's CPU µs per message over the measured window (as in the
# comparison: sampled every 50 ms, interpolated), and says so when echoload reported errors.
echoload_pingpong() {
  local -a args=(--port "$1" --conns "$2" --size 64 --mode pingpong --duration "$duration" --warmup "$warmup"
    --connect-rate "$connect_rate" --connect-timeout 60)
  [ "$verify" -eq 1 ] && args+=(--verify)
  local rc=0 flag="$WORK/sampling" samples="$WORK/cpu.samples" sampler launched from to cpu
  : >"$flag"
  sample_cpu "$SERVER_PID" "$samples" "$flag" "$(awk -v d="$duration" -v w="$warmup" 'BEGIN { printf "%d", (d + w + 150) * 20 }')" &
  sampler=$!
  STARTED+=("$sampler")
  sleep 0.1
  launched="$EPOCHREALTIME"
  taskset -c 1 "$BIN_DIR/echoload" "${args[@]}" >"$WORK/client.out" 2>"$WORK/client.err" || rc=$?
  rm -f "$flag"
  wait "$sampler" 2>/dev/null || true
  forget "$sampler"
  LINE="$(grep '^RESULT ' "$WORK/client.out" | tail -n 1 || true)"
  CPU_US=NA
  if [ -z "$LINE" ] || [ "$rc" -ne 0 ]; then
    echo "compare.sh: echoload failed or reported errors (exit $rc):" >&2
    head -n 5 "$WORK/client.err" >&2
  fi
  if [ -n "$LINE" ]; then
    from="$(awk -v l="$launched" -v c="$(field "$LINE" connect_s)" -v w="$warmup" 'BEGIN { printf "%.6f", l + c + w }')"
    to="$(awk -v f="$from" -v d="$duration" 'BEGIN { printf "%.6f", f + d }')"
    cpu="$(cpu_between "$samples" "$from" "$to")"
    CPU_US="$(awk -v c="$cpu" -v m="$(field "$LINE" msgs)" 'BEGIN { if (c == "NA" || m + 0 == 0) print "NA"; else printf "%.2f", c * 1e6 / m }')"
  fi
}

# One server, one count of idle connections, one round. The order inside a run is fixed, so every server meets the
# same sequence: 50 active alone; N idle connected; a pause; the server's CPU over --idle-window with everything
# idle; 50 active again with the N idle held, while idlehold wakes --idle-probes long-idle connections one at a time
# (each is idle since it connected, that is for --idle-window seconds and more).
run_idle_one() { # server n round
  local server="$1" n="$2" round="$3" status=ok
  local alone="" loaded="" cold="" cpu_pct=NA rss=NA held_s=NA alone_cpu=NA loaded_cpu=NA
  server_command "$server"
  if ! start_server "${SERVER_CMD[@]}"; then
    stop_server "$SERVER_PID"
    printf '%s\t%s\t%s\tNA\tNA\tNA\tNA\tNA\tNA\tNA\tNA\tNA\tNA\tNA\tstart-failed\n' "$n" "$server" "$round" >>"$RAW"
    return
  fi

  echoload_pingpong "$SERVER_PORT" "$idle_active"
  alone="$LINE"
  alone_cpu="$CPU_US"

  # idlehold's probes start --cold seconds after it prints "held": after the pause, the CPU window and echoload's
  # warm-up, about a second into echoload's measured window. It holds far longer and is stopped with the run.
  local settle=2 cold_s hold_s holder i t0 held
  cold_s=$(awk -v s="$settle" -v w="$idle_window" -v u="$warmup" 'BEGIN { x = s + w + u + 1; printf "%d", (x == int(x)) ? x : int(x) + 1 }')
  hold_s=$((cold_s + 900))
  : >"$WORK/idle.out"
  t0="$EPOCHREALTIME"
  taskset -c 1 "$BIN_DIR/idlehold" "$SERVER_PORT" "$n" "$hold_s" "$cold_s" "$idle_probes" >"$WORK/idle.out" 2>"$WORK/idle.err" &
  holder=$!
  STARTED+=("$holder")
  held=""
  for ((i = 0; i < 600 + n / 20; i++)); do # 0.1 s steps: 60 s plus 5 s per thousand connections
    held="$(sed -n 's/^held \([0-9]*\)$/\1/p' "$WORK/idle.out")"
    [ -n "$held" ] && break
    kill -0 "$holder" 2>/dev/null || break
    sleep 0.1
  done
  held_s="$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')"
  if [ "$held" != "$n" ]; then
    status="held-${held:-none}"
    echo "compare.sh: idlehold held ${held:-nothing} of $n against $server after $held_s s:" >&2
    head -n 3 "$WORK/idle.err" >&2
  else
    sleep "$settle"
    local c0 c1 w0 w1
    c0="$(cpu_ticks "$SERVER_PID")"; w0="$EPOCHREALTIME"
    sleep "$idle_window"
    c1="$(cpu_ticks "$SERVER_PID")"; w1="$EPOCHREALTIME"
    cpu_pct="$(awk -v a="$c0" -v b="$c1" -v s="$w0" -v e="$w1" -v hz="$(getconf CLK_TCK)" \
      'BEGIN { if (a == "NA" || b == "NA") print "NA"; else printf "%.2f", 100 * (b - a) / hz / (e - s) }')"

    echoload_pingpong "$SERVER_PORT" "$idle_active"
    loaded="$LINE"
    loaded_cpu="$CPU_US"
    for ((i = 0; i < 600; i++)); do # the probes end on their own: at most 2 s each without an echo
      cold="$(grep '^COLD ' "$WORK/idle.out" | tail -n 1 || true)"
      [ -n "$cold" ] && break
      kill -0 "$holder" 2>/dev/null || break
      sleep 0.1
    done
    [ -n "$cold" ] || { status="no-cold-line"; echo "compare.sh: idlehold printed no COLD line against $server" >&2; }
  fi
  rss="$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$SERVER_PID/status" 2>/dev/null || echo NA)"
  stop_server "$SERVER_PID"
  kill_tree "$holder"
  wait "$holder" 2>/dev/null || true
  forget "$holder"

  [ -n "$alone" ] && [ "$(field "$alone" errors)" = 0 ] || [ "$status" != ok ] || status="echoload-alone"
  [ -n "$loaded" ] && [ "$(field "$loaded" errors)" = 0 ] || [ "$status" != ok ] || status="echoload-idle"
  local us2ms='function ms(x) { return x == "" ? "NA" : sprintf("%.2f", x / 1000) }'
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$server" "$round" \
    "$(field "$alone" msgs_per_s)" "$(field "$alone" p99_us)" "$(field "$loaded" msgs_per_s)" "$(field "$loaded" p99_us)" \
    "$(awk -v x="$(field "$cold" p50_us)" "$us2ms BEGIN { print ms(x) }")" \
    "$(awk -v x="$(field "$cold" p99_us)" "$us2ms BEGIN { print ms(x) }")" \
    "$(awk -v x="$(field "$cold" max_us)" "$us2ms BEGIN { print ms(x) }")" \
    "$(field "$cold" lost)" "$cpu_pct" "$rss" "$held_s" "$status" "$alone_cpu" "$loaded_cpu" \
    | sed 's/\t\t/\tNA\t/g; s/\t\t/\tNA\t/g' >>"$RAW"
  printf 'compare.sh: idle %-6s %-17s round %s: alone %s msgs/s (p99 %s us, %s CPU us/msg); with idle %s msgs/s (p99 %s us, %s CPU us/msg); first echo %s; idle CPU %s%%; RSS %s MiB; held in %s s; %s\n' \
    "$n" "$server" "$round" "$(field "$alone" msgs_per_s)" "$(field "$alone" p99_us)" "$alone_cpu" "$(field "$loaded" msgs_per_s)" \
    "$(field "$loaded" p99_us)" "$loaded_cpu" "${cold#COLD }" "$cpu_pct" "$rss" "$held_s" "$status" >&2
}

# Medians per (idle count, server) over the rounds; the ratios are taken within each round (the same run), then
# their median.
idle_table() {
  local names="" s
  for s in "${SERVERS[@]}"; do names+="$s=$(server_label "$s");"; done
  awk -F'\t' -v names="$names" -v active="$idle_active" '
    BEGIN { n = split(names, a, ";"); for (i = 1; i <= n; i++) if (split(a[i], kv, "=") == 2) NAME[kv[1]] = kv[2] }
    function median(list,   n, i, j, t, a) {
      n = split(list, a, " ")
      if (n == 0) return "NA"
      for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j+1] = a[j]; a[j+1] = t }
      return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function add(key, col, x) { if (x != "NA" && x != "") V[key, col] = V[key, col] " " x }
    function commas(x,   s, r) {
      if (x == "NA") return x
      s = sprintf("%.0f", x); r = ""
      while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
      return s r
    }
    function fmt(x, f) { return x == "NA" ? x : sprintf(f, x) }
    {
      R[NR] = $0
      key = $1 SUBSEP $2
      if (!(key in seen)) { seen[key] = 1; order[++k] = key }
      runs[key]++
      if ($15 != "ok") bad[key]++
      for (c = 4; c <= 17; c++) if (c != 15) add(key, c, $c)
      if ($4 != "NA" && $6 != "NA" && $4 > 0) RATIO[$1, $2, $3] = $6 / $4
      ALONE[$1, $2, $3] = $4
    }
    END {
      for (r = 1; r <= NR; r++) {
        split(R[r], f, "\t"); key = f[1] SUBSEP f[2]
        if ((f[1], f[2], f[3]) in RATIO) add(key, "ratio", RATIO[f[1], f[2], f[3]])
        if ((f[1], "epoll", f[3]) in RATIO && (f[1], f[2], f[3]) in RATIO && RATIO[f[1], "epoll", f[3]] > 0)
          add(key, "rel", RATIO[f[1], f[2], f[3]] / RATIO[f[1], "epoll", f[3]])
        e = ALONE[f[1], "epoll", f[3]]
        if (e != "" && e != "NA" && e > 0 && f[4] != "NA") add(key, "alone_rel", f[4] / e)
        e = ALONE[f[1], "selectreactor-ref", f[3]]
        if (e != "" && e != "NA" && e > 0 && f[4] != "NA") add(key, "ref_rel", f[4] / e)
      }
      print "| idle held | server | " active " active alone msgs/s | ÷ C epoll | ÷ ref | p99 µs | CPU µs/msg | with idle msgs/s | p99 µs | CPU µs/msg | ratio with/alone | ratio ÷ C epoll ratio | first echo p50 / p99 / max ms | lost | CPU all idle, % of a core | peak RSS MiB | connect N s | runs (failed) |"
      print "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|"
      for (i = 1; i <= k; i++) {
        key = order[i]; split(key, p, SUBSEP)
        printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s / %s | %s | %s | %s | %s | %d (%d) |\n",
          commas(p[1]), NAME[p[2]], commas(median(V[key, 4])), fmt(median(V[key, "alone_rel"]), "%.2f"),
          fmt(median(V[key, "ref_rel"]), "%.2f"), commas(median(V[key, 5])), fmt(median(V[key, 16]), "%.1f"),
          commas(median(V[key, 6])), commas(median(V[key, 7])), fmt(median(V[key, 17]), "%.1f"), fmt(median(V[key, "ratio"]), "%.2f"),
          fmt(median(V[key, "rel"]), "%.2f"), fmt(median(V[key, 8]), "%.1f"), fmt(median(V[key, 9]), "%.1f"),
          fmt(median(V[key, 10]), "%.1f"), fmt(median(V[key, 11]), "%d"), fmt(median(V[key, 12]), "%.2f"),
          fmt(median(V[key, 13]), "%.0f"), fmt(median(V[key, 14]), "%.1f"), runs[key], bad[key]
      }
    }' "$RAW"
}

run_idle() {
  [ -x "$BIN_DIR/echoload" ] || { echo "compare.sh: --idle needs echoload" >&2; exit 2; }
  RAW="$WORK/idle.tsv"
  : >"$RAW"
  local n round k server n_servers=${#SERVERS[@]} ran=0
  for n in "${IDLE_COUNTS[@]}"; do
    idle_fits "$n" || continue
    ran=1
    for ((round = 1; round <= rounds; round++)); do
      for ((k = 0; k < n_servers; k++)); do
        run_idle_one "${SERVERS[$(((k + round - 1) % n_servers))]}" "$n" "$round"
      done
    done
  done
  [ "$ran" -eq 1 ] || { echo "compare.sh: no --idle count fits on this machine (see above)" >&2; exit 2; }
  [ -n "$results" ] || results="$OUT_DIR/idle-$(date -u +%Y%m%d-%H%M%S).md"
  mkdir -p "$(dirname "$results")"
  {
    echo "## Idle connections"
    echo
    machine_header
    echo "- servers on core 0; echoload (ping-pong 64 B over $idle_active connections, ${duration} s measured after ${warmup} s warm-up, verify $([ "$verify" -eq 1 ] && echo on || echo off)) and idlehold on core 1; a fresh server per run; ${rounds} round(s), servers rotated each round; medians, ratios taken within each round"
    echo "- sequence per run: $idle_active active alone; N idle connected (connect N s); 2 s pause; server CPU (utime+stime) over ${idle_window} s with everything idle; $idle_active active again with N idle held; idlehold wakes $idle_probes connections idle since they connected, one at a time, starting about 1 s into that measured window (first echo: 8 bytes out and back; lost: no echo within 2 s)"
    echo "- ÷ C epoll and ÷ ref: the $idle_active-alone throughput over C epoll's and over selectreactor-ref's in the same round"
    echo
    idle_table
  } >"$results.tmp"
  mv "$results.tmp" "$results"
  cp "$RAW" "${results%.md}.tsv"
  cat "$results"
  echo "compare.sh: written to $results (per-run values in ${results%.md}.tsv)" >&2
  if awk -F'\t' '$15 != "ok" { bad = 1 } END { exit !bad }' "$RAW"; then
    echo "compare.sh: some runs failed; see above" >&2
    exit 1
  fi
}

LOAD_AT_START="$(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$mode" = strace ]; then
  run_strace
  exit 0
fi
if [ "$mode" = idle ]; then
  run_idle
  exit 0
fi

# ---------------------------------------------------------------- the comparison
RAW="$WORK/raw.tsv"
: >"$RAW"
n_servers=${#SERVERS[@]}
for config in "${CONFIGS[@]}"; do
  for ((round = 1; round <= rounds; round++)); do
    # Rotate the order every round, so no server always runs first (or right after the heaviest one).
    for ((k = 0; k < n_servers; k++)); do
      server="${SERVERS[$(((k + round - 1) % n_servers))]}"
      for client in "${CLIENTS[@]}"; do
        run_one "$server" "$config" "$client" "$round"
      done
    done
  done
done

# The TLS closing note: each target with the measured ratio (SelectReactor over async/await, from the medians of
# this run), the server CPU per message and the handshake p50.
tls_targets() {
  awk -F'\t' '
    function median(key, col,   n, i, j, t, a) {
      n = split(V[key, col], a, " ")
      if (n == 0) return "NA"
      for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j+1] = a[j]; a[j+1] = t }
      return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    $3 == "echoload" { for (c = 5; c <= 13; c++) if ($c != "NA" && $c != "") V[$1 SUBSEP $2, c] = V[$1 SUBSEP $2, c] " " $c; seen[$1] = 1 }
    function ratio(config,   a, b) {
      a = median(config SUBSEP "selectreactor", 5); b = median(config SUBSEP "async", 5)
      return (a == "NA" || b == "NA" || b + 0 == 0) ? "NA" : sprintf("%.2f", a / b)
    }
    function line(config, target, label,   r, verdict) {
      if (!(config in seen)) return
      r = ratio(config)
      verdict = (r == "NA") ? "not measured" : (r + 0 >= target ? "met" : "NOT met")
      verdict = (target > 0) ? sprintf(" (target ≥ %.1f×: %s)", target, verdict) : ""
      printf "- %s: SelectReactor / async = **%s×**%s; server CPU per message %s µs vs %s µs; handshake p50 %s ms vs %s ms\n", \
        label, r, verdict, median(config SUBSEP "selectreactor", 9), median(config SUBSEP "async", 9), \
        median(config SUBSEP "selectreactor", 13), median(config SUBSEP "async", 13)
    }
    END {
      print "TLS targets (ratios from this one run; CPU per message = server CPU s per M msgs, in µs):"
      line("pp50", 1.5, "ping-pong 64 B, 50 connections")
      line("stream10", 1.0, "streaming 16 KiB, 10 connections")
      line("pp1", 0, "ping-pong 64 B, 1 connection (no target: latency)")
    }' "$RAW"
}

show_client=0
[ "${#CLIENTS[@]}" -gt 1 ] && show_client=1
[ -n "$results" ] || results="$OUT_DIR/compare-$(date -u +%Y%m%d-%H%M%S).md"
mkdir -p "$(dirname "$results")"
{
  echo "## Echo comparison$([ "$tls" -eq 1 ] && echo ' over TLS')"
  echo
  machine_header
  echo "- client: ${clients} (core 1); servers on core 0; ${duration} s measured after ${warmup} s warm-up; ${rounds} round(s), servers rotated each round; medians; verify: $([ "$verify" -eq 1 ] && echo on || echo off); connect rate ${connect_rate}/s"
  echo "- server CPU: utime+stime of the server process over the measured window, per million messages echoed in it; connect s: the client's time to open every connection"
  echo
  medians_table "$show_client"
  if [ "$tls" -eq 1 ]; then
    echo
    tls_targets
  fi
} >"$results.tmp"
mv "$results.tmp" "$results"
cp "$RAW" "${results%.md}.tsv"
cat "$results"
echo "compare.sh: written to $results (per-run values in ${results%.md}.tsv)" >&2
if awk -F'\t' '$11 != "0" { bad = 1 } END { exit !bad }' "$RAW"; then
  echo "compare.sh: some runs had errors or failed; see above" >&2
  exit 1
fi
