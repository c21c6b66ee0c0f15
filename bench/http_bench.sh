#!/usr/bin/env bash
# bench/http_bench.sh - what the /debug/pprof endpoint costs the program it
# serves from, and what loading it costs. `make bench` runs it after the
# other benchmarks; `make bench-http` runs it alone.
#
# 1. Throughput: tests/progs/http_busy runs its work loop for S seconds and
#    reports the units done. Configurations, interleaved (each round runs
#    each once, starting at a different one):
#      none      LD_PRELOAD=libcprof.so CPROF_MEMPROFILE=F (the heap profiler
#                on, so /heap is a real snapshot), no endpoint    (baseline)
#      idle      the same with CPROF_HTTP=127.0.0.1:0, no client
#      hammered  the same with 50 clients (bench_http_client, under SCHED_IDLE
#                so the load generator itself takes CPU only when it is free)
#                asking for /debug/pprof/ and /debug/pprof/heap in turn on
#                keep-alive connections as fast as they are answered
#      hammered-idle  the same with CPROF_HTTP_SCHED=idle (every request
#                under SCHED_IDLE: the policy before the CPU budget)
#    Loss = 1 - median(units) / median(units of none), in wall time (what
#    the program gets done; on a machine shared with other work this mostly
#    measures that work) and per CPU-second of the work thread (what the
#    endpoint's threads cost it through caches, memory and locks, whatever
#    else runs).
# 2. Answer time when the program computes on every CPU: http_busy spin2 (two
#    threads of work: every CPU of a 2-CPU machine) under the
#    default policy (a CPU budget at the program's priority, then SCHED_IDLE)
#    and under CPROF_HTTP_SCHED=idle, interleaved; in each run 5 requests
#    of /debug/pprof/ and 5 of /debug/pprof/heap in turn, one at a time,
#    timed by curl. Medians per policy and path.
# 3. Load cost: /bin/true with libcprof.so preloaded, with and without
#    libmicrohttpd.so.12 (and what it pulls in) preloaded too: what the
#    runtime would cost every program if it linked the library instead of
#    loading it when the endpoint starts. Medians of bench_runner's wall time.
#
# Output: markdown on stdout, also written to BUILD/bench/http_results.md and
# appended to APPEND_TO when given. Exit status 1 when a run fails.
#
# Usage: bench/http_bench.sh BUILD_DIR [APPEND_TO]
#   CPROF_BENCH_N=7 rounds; CPROF_BENCH_QUICK=1 for 3 short rounds
set -u
B=${1:?usage: bench/http_bench.sh BUILD_DIR [APPEND_TO]}
append=${2:-}
N=${CPROF_BENCH_N:-7}
S=4 CLIENTS=50 NLOAD=41
if [ "${CPROF_BENCH_QUICK:-}" = 1 ]; then
	N=3 S=1 NLOAD=11
fi
busy=$B/tests/progs/http_busy
client=$B/bench/bench_http_client
runner=$B/bench/bench_runner
lib=$B/lib/libcprof.so
mhd=$(ls /usr/lib/*/libmicrohttpd.so.12 2>/dev/null | head -1)
for f in "$busy" "$client" "$runner" "$lib" "$mhd"; do
	[ -e "$f" ] || { echo "bench: ${f:-libmicrohttpd.so.12} is missing: run make bench" >&2; exit 1; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cprof-httpbench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failed=0
start=$SECONDS
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# run CONFIG ROUND: one run of http_busy; appends "config units requests" to $tmp/runs
run() {
	local cfg=$1 r=$2 out=$tmp/$1.$2.out err=$tmp/$1.$2.err stop=$tmp/stop.$1.$2 req=""
	case $cfg in
	none) CPROF_MEMPROFILE=$tmp/mem.prof LD_PRELOAD=$lib "$busy" "$S" >"$out" 2>"$err" ;;
	idle) CPROF_MEMPROFILE=$tmp/mem.prof CPROF_HTTP=127.0.0.1:0 LD_PRELOAD=$lib "$busy" "$S" >"$out" 2>"$err" ;;
	hammered | hammered-idle)
		local sched=budget
		[ "$cfg" = hammered-idle ] && sched=idle
		CPROF_HTTP_SCHED=$sched CPROF_MEMPROFILE=$tmp/mem.prof CPROF_HTTP=127.0.0.1:0 LD_PRELOAD=$lib "$busy" "$S" >"$out" 2>"$err" &
		local pid=$! port=""
		for _ in $(seq 1 100); do
			port=$(sed -n 's|.*serving /debug/pprof/ on http://[^ ]*:\([0-9]*\)/.*|\1|p' "$err" | head -1)
			[ -n "$port" ] && break
			sleep 0.02
		done
		chrt --idle 0 "$client" "$port" "$CLIENTS" "$stop" >"$tmp/client.$r.out" &
		local cpid=$!
		wait "$pid"
		touch "$stop"
		wait "$cpid"
		req=$(sed -n 's/^requests=\([0-9]*\) ok=\([0-9]*\) errors=\([0-9]*\)/\1 \2 \3/p' "$tmp/client.$r.out")
		;;
	esac
	local units cpu
	units=$(sed -n 's/^units=\([0-9]*\) check=ok cpu_ms=[0-9]*$/\1/p' "$out")
	cpu=$(sed -n 's/^units=[0-9]* check=ok cpu_ms=\([0-9]*\)$/\1/p' "$out")
	if [ -z "$units" ] || [ -z "$cpu" ]; then
		echo "bench: http_busy ($cfg) failed: $(cat "$out" "$err" | head -c 300)" >&2
		failed=1
		return
	fi
	echo "$cfg $units ${req:-0 0 0} $(awk -v u="$units" -v c="$cpu" 'BEGIN { printf "%.4f", (c > 0 ? u / c : 0) }')" >>"$tmp/runs"
}

configs=(none idle hammered hammered-idle)
: >"$tmp/runs"
for r in $(seq 1 "$N"); do
	echo "bench: http round $r/$N" >&2
	for k in 0 1 2 3; do
		run "${configs[$(((r + k) % 4))]}" "$r"
	done
done

# answer POLICY ROUND: http_busy spin2 under POLICY; appends "policy path seconds" to $tmp/answer
answer() {
	local pol=$1 r=$2 err=$tmp/ans.$1.$2.err stop=$tmp/stop.ans.$1.$2 port=""
	CPROF_HTTP_SCHED=$pol CPROF_MEMPROFILE=$tmp/mem.prof CPROF_HTTP=127.0.0.1:0 LD_PRELOAD=$lib \
		"$busy" 60 "$stop" spin2 >"$tmp/ans.$pol.$r.out" 2>"$err" &
	local pid=$!
	for _ in $(seq 1 100); do
		port=$(sed -n 's|.*serving /debug/pprof/ on http://[^ ]*:\([0-9]*\)/.*|\1|p' "$err" | head -1)
		[ -n "$port" ] && break
		sleep 0.02
	done
	sleep 0.5
	for _ in 1 2 3 4 5; do
		for path in "" heap; do
			t=$(curl -s -o /dev/null --max-time 60 -w '%{time_total}' "http://127.0.0.1:$port/debug/pprof/$path")
			echo "$pol ${path:-index} $t" >>"$tmp/answer"
		done
	done
	touch "$stop"
	wait "$pid" || failed=1
}
: >"$tmp/answer"
NANS=$(((N + 1) / 2))
for r in $(seq 1 "$NANS"); do
	echo "bench: http answer-time round $r/$NANS" >&2
	if [ $((r % 2)) = 1 ]; then answer budget "$r"; answer idle "$r"; else answer idle "$r"; answer budget "$r"; fi
done

# Load cost, interleaved too.
: >"$tmp/load"
for r in $(seq 1 "$NLOAD"); do
	"$runner" "LD_PRELOAD=$lib" -- /bin/true | awk '{ print "runtime", $1 }' >>"$tmp/load"
	"$runner" "LD_PRELOAD=$lib $mhd" -- /bin/true | awk '{ print "runtime+mhd", $1 }' >>"$tmp/load"
done
libs=$(ldd "$mhd" | grep -c '=>')
load1=$(cut -d' ' -f1-3 /proc/loadavg)

med() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
u_none=$(awk '$1 == "none" { print $2 }' "$tmp/runs" | med)
u_idle=$(awk '$1 == "idle" { print $2 }' "$tmp/runs" | med)
u_ham=$(awk '$1 == "hammered" { print $2 }' "$tmp/runs" | med)
u_hid=$(awk '$1 == "hammered-idle" { print $2 }' "$tmp/runs" | med)
rq_id=$(awk '$1 == "hammered-idle" { print $3 }' "$tmp/runs" | med)
c_hid=$(awk '$1 == "hammered-idle" { print $6 }' "$tmp/runs" | med)
a_bi=$(awk '$1 == "budget" && $2 == "index" { print $3 * 1000 }' "$tmp/answer" | med)
a_bh=$(awk '$1 == "budget" && $2 == "heap" { print $3 * 1000 }' "$tmp/answer" | med)
a_ii=$(awk '$1 == "idle" && $2 == "index" { print $3 * 1000 }' "$tmp/answer" | med)
a_ih=$(awk '$1 == "idle" && $2 == "heap" { print $3 * 1000 }' "$tmp/answer" | med)
a_bmax=$(awk '$1 == "budget" { print $3 * 1000 }' "$tmp/answer" | sort -n | tail -1)
a_imax=$(awk '$1 == "idle" { print $3 * 1000 }' "$tmp/answer" | sort -n | tail -1)
nans=$(awk '$1 == "budget" && $2 == "heap"' "$tmp/answer" | wc -l)
rq=$(awk '$1 == "hammered" { print $3 }' "$tmp/runs" | med)
c_none=$(awk '$1 == "none" { print $6 }' "$tmp/runs" | med)
c_idle=$(awk '$1 == "idle" { print $6 }' "$tmp/runs" | med)
c_ham=$(awk '$1 == "hammered" { print $6 }' "$tmp/runs" | med)
errs=$(awk '$1 ~ /^hammered/ { e += $5 } END { print e + 0 }' "$tmp/runs")
l_rt=$(awk '$1 == "runtime" { print $2 / 1e6 }' "$tmp/load" | med)
l_mhd=$(awk '$1 == "runtime+mhd" { print $2 / 1e6 }' "$tmp/load" | med)
heap_status=$(LD_PRELOAD=$lib CPROF_MEMPROFILE=$tmp/mem.prof CPROF_HTTP=127.0.0.1:0 "$busy" 1 2>"$tmp/hs.err" >/dev/null &
	sleep 0.3
	p=$(sed -n 's|.*:\([0-9]*\)/debug/pprof/.*|\1|p' "$tmp/hs.err" | head -1)
	curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/debug/pprof/heap"
	wait)

out=$B/bench/http_results.md
mkdir -p "$B/bench"
{
	echo "## The /debug/pprof endpoint: the program's throughput while it serves"
	echo
	echo "- command: \`make bench-http\` (bench/http_bench.sh $B), $N interleaved rounds of ${S} s per configuration"
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); run took $((SECONDS - start)) s"
	echo "- machine: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) CPUs," \
		"load average ${load0} before, ${load1} after"
	echo "- workload: tests/progs/http_busy (one thread, xorshift work units); clients: $CLIENTS threads of" \
		"bench/bench_http_client, keep-alive, /debug/pprof/ and /debug/pprof/heap in turn" \
		"(heap answered $heap_status in this build$([ "$heap_status" = 404 ] && echo ': no heap profiler yet, so the Unknown profile error'))"
	echo
	echo "| configuration | units in ${S} s (median) | vs none | units per CPU-ms of the work thread (median) | vs none | requests served per run (median) | goal (loss < 2%) |"
	echo "|---|---:|---:|---:|---:|---:|---|"
	awk -v n="$u_none" -v i="$u_idle" -v h="$u_ham" -v cn="$c_none" -v ci="$c_idle" -v ch="$c_ham" -v rq="$rq" -v s="$S" -v hi="$u_hid" -v chi="$c_hid" -v rqi="$rq_id" '
	function verdict(r, rc) { return sprintf("wall: %s, per CPU: %s", (1 - r < 0.02) ? "met" : "NOT met", (1 - rc < 0.02) ? "met" : "NOT met") }
	BEGIN {
		printf "| none (runtime preloaded, no endpoint) | %d | 1.000 | %.4f | 1.000 | - | baseline |\n", n, cn
		printf "| idle (endpoint, no client) | %d | %.3f | %.4f | %.3f | - | %s |\n", i, i / n, ci, ci / cn, verdict(i / n, ci / cn)
		printf "| hammered (50 clients; CPU budget, then SCHED_IDLE) | %d | %.3f | %.4f | %.3f | %d (%.0f/s) | %s |\n", h, h / n, ch, ch / cn, rq, rq / s,
			verdict(h / n, ch / cn)
		printf "| hammered, CPROF_HTTP_SCHED=idle (every request SCHED_IDLE) | %d | %.3f | %.4f | %.3f | %d (%.0f/s) | %s |\n", hi, hi / n, chi, chi / cn, rqi, rqi / s,
			verdict(hi / n, chi / cn)
	}'
	echo
	echo "Client errors (connections refused or cut) over all hammered runs: $errs."
	echo
	echo "Answer time while the program computes on two threads (http_busy spin2, heap profiler on), $nans requests per path and policy, one at a time:"
	echo
	echo "| policy | /debug/pprof/ median ms | /debug/pprof/heap median ms | slowest ms |"
	echo "|---|---:|---:|---:|"
	awk -v a="$a_bi" -v b="$a_bh" -v c="$a_bmax" 'BEGIN { printf "| CPU budget, then SCHED_IDLE (default) | %.1f | %.1f | %.1f |\n", a, b, c }'
	awk -v a="$a_ii" -v b="$a_ih" -v c="$a_imax" 'BEGIN { printf "| CPROF_HTTP_SCHED=idle | %.1f | %.1f | %.1f |\n", a, b, c }'
	echo
	echo "| load | /bin/true wall, median ms | |"
	echo "|---|---:|---|"
	awk -v a="$l_rt" -v b="$l_mhd" -v libs="$libs" 'BEGIN {
		printf "| libcprof.so preloaded (the endpoint loads libmicrohttpd only when it starts) | %.2f | |\n", a
		printf "| libcprof.so + libmicrohttpd.so.12 preloaded (%d libraries it needs) | %.2f | +%.2f ms per program start |\n", libs, b, b - a
	}'
	echo
} | tee "$out"
[ -n "$append" ] && cat "$out" >>"$append"
exit $failed
