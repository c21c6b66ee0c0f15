#!/usr/bin/env bash
# bench/lock_bench.sh - what the block and mutex profilers cost per lock
# operation, side by side with no profiler, in one run (called by
# bench/run.sh, or alone: bench/lock_bench.sh BUILD_DIR).
#
# bench_lock times its own loop (ns per lock/unlock pair), so start-up and
# profile writing are not counted. Configurations, interleaved (each round
# runs each once, starting at a different one):
#   base       no runtime
#   preloaded  LD_PRELOAD=libcprof.so, no profile on (the wrappers' floor)
#   block+mutex  LD_PRELOAD=libcprof.so CPROF_BLOCKPROFILE CPROF_MUTEXPROFILE
#              at their defaults: every wait and every contention recorded
#              (rate 1 ns, fraction 1), the heaviest setting
# Workloads: uncontended (one thread, a mutex nobody else wants, in a
# multi-threaded process: see bench_lock.c) and
# contended (4 threads on one mutex, short critical section).
# Result: median ns per pair per configuration, and its ratio to base; and
# the instructions per uncontended pair under callgrind, which a loaded
# machine does not move.
# Markdown on stdout, appended to BUILD/bench/results.md.
#
#   CPROF_BENCH_N=11      rounds
#   CPROF_BENCH_QUICK=1   3 short rounds (checks the script)
set -u
B=${1:?usage: bench/lock_bench.sh BUILD_DIR}
N=${CPROF_BENCH_N:-11}
NU=20000000 NC=1000000
if [ "${CPROF_BENCH_QUICK:-}" = 1 ]; then
	N=3 NU=2000000 NC=100000
fi
bin=$B/bench/bench_lock
lib=$B/lib/libcprof.so
for f in "$bin" "$lib"; do
	[ -e "$f" ] || { echo "lock_bench: $f is missing: run make bench" >&2; exit 1; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cprof-lockbench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
res=$tmp/res.tsv
: >"$res"
failed=0

CFG=(base preloaded block+mutex)
run() { # workload cfg round
	local wl=$1 cfg=$2 r=$3 args envs=() out
	if [ "$wl" = uncontended ]; then args="-u $NU"; else args="-c $NC -t 4"; fi
	case $cfg in
	preloaded) envs=(LD_PRELOAD="$lib") ;;
	block+mutex) envs=(LD_PRELOAD="$lib" CPROF_BLOCKPROFILE="$tmp/b.$wl.$r" CPROF_MUTEXPROFILE="$tmp/m.$wl.$r") ;;
	esac
	# shellcheck disable=SC2086
	if ! out=$(env "${envs[@]}" "$bin" $args 2>"$tmp/err"); then
		echo "lock_bench: $wl $cfg round $r failed: $(tail -n 3 "$tmp/err")" >&2
		failed=1
		return
	fi
	printf '%s\t%s\t%s\n' "$wl" "$cfg" "$(echo "$out" | sed -n 's/^ns_per_op=\([0-9.]*\).*/\1/p')" >>"$res"
}

start=$SECONDS
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 1; r <= N; r++)); do
	echo "lock_bench: round $r/$N" >&2
	for wl in uncontended contended; do
		for ((j = 0; j < 3; j++)); do
			run "$wl" "${CFG[$(((j + r - 1) % 3))]}" "$r"
		done
	done
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)
# Every profiled run must have left both profiles, readable.
for f in "$tmp"/b.* "$tmp"/m.*; do
	[ -e "$f" ] || { echo "lock_bench: no profile written" >&2; failed=1; break; }
	go tool pprof -raw "$f" >/dev/null 2>&1 || { echo "lock_bench: $f unreadable" >&2; failed=1; }
done
contentions=$(go tool pprof -raw "$tmp/b.contended.1" 2>/dev/null |
	awk '/^Samples:/ { s = 1; next } /^Locations/ { s = 0 } s && $2 ~ /^[0-9]+:$/ { c += $1 } END { print c + 0 }')

# Instructions per uncontended pair (callgrind), which the machine's load does not move:
# (instructions of a 2M-pair run - those of a 1M-pair run) / 1M, so start-up and exit cancel out.
instr() { # cfg -> instructions per pair, or "n/a"
	local cfg=$1 envs=() n c1 c2
	command -v valgrind >/dev/null 2>&1 || { echo n/a; return; }
	case $cfg in
	preloaded) envs=(LD_PRELOAD="$lib") ;;
	block+mutex) envs=(LD_PRELOAD="$lib" CPROF_BLOCKPROFILE="$tmp/vb" CPROF_MUTEXPROFILE="$tmp/vm") ;;
	esac
	for n in 1000000 2000000; do
		env "${envs[@]}" valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$n" "$bin" -u $n >/dev/null 2>"$tmp/cg.err" ||
			{ echo n/a; return; }
	done
	c1=$(awk '/^summary:/ { print $2 }' "$tmp/cg.1000000")
	c2=$(awk '/^summary:/ { print $2 }' "$tmp/cg.2000000")
	awk -v a="$c1" -v b="$c2" 'BEGIN { if (a > 0 && b > a) printf "%.1f\n", (b - a) / 1000000; else print "n/a" }'
}
echo "lock_bench: instruction counts (callgrind)" >&2
I_base=$(instr base)
I_pre=$(instr preloaded)
I_on=$(instr block+mutex)

out=$B/bench/results.md
mkdir -p "$B/bench"
{
	echo "## Block and mutex profilers: cost per lock operation"
	echo
	echo "- command: \`make bench\` (bench/lock_bench.sh $B), $N interleaved rounds; run took $((SECONDS - start)) s"
	echo "- machine: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) CPUs," \
		"load average ${load0} before, ${load1} after"
	echo "- workloads: bench_lock -u $NU (one thread, uncontended), bench_lock -c $NC -t 4" \
		"(4 threads, one mutex; $contentions waits recorded in round 1's block profile)"
	echo
	echo "| workload | configuration | ns per lock/unlock (median) | min - max | ratio to base | goal |"
	echo "|---|---|---|---|---|---|"
	awk -F'\t' '
		function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
		function med(s,   a, n) { n = split(s, a, " "); sort(a, n); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
		function mn(s,   a, n) { n = split(s, a, " "); sort(a, n); return a[1] }
		function mx(s,   a, n) { n = split(s, a, " "); sort(a, n); return a[n] }
		{ V[$1 SUBSEP $2] = V[$1 SUBSEP $2] " " $3 }
		END {
			split("uncontended contended", W, " "); split("base preloaded block+mutex", C, " ")
			for (w = 1; w <= 2; w++) {
				b = med(V[W[w] SUBSEP "base"])
				for (c = 1; c <= 3; c++) {
					k = W[w] SUBSEP C[c]
					if (!(k in V)) continue
					r = med(V[k]) / b
					goal = ""
					if (C[c] == "block+mutex") {
						lim = W[w] == "uncontended" ? 1.5 : 3
						goal = sprintf("<= %.1fx: %s", lim, r <= lim ? "met" : "NOT met")
					}
					printf "| %s | %s | %.1f | %.1f - %.1f | %.2fx | %s |\n", W[w], C[c], med(V[k]), mn(V[k]), mx(V[k]), r, goal
				}
			}
		}' "$res"
	echo
	echo "Instructions per uncontended lock/unlock pair (callgrind, 2M-pair run minus 1M-pair run):" \
		"base $I_base, preloaded $I_pre, block+mutex $I_on" \
		"($(awk -v a="$I_base" -v b="$I_on" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", b / a; else print "n/a" }') of base)."
	echo
} | tee -a "$out"
exit $failed
