#!/usr/bin/env bash
# bench/harness_bench.sh - the benchmark harness's own costs and stability,
# side by side with go test's: `make bench` runs it after bench/run.sh.
#
#  1. Overhead per iteration: ns/op of an empty loop body (C: a for loop over
#     b->n with cprof_b_keep(i), and while (cprof_b_loop(b)); Go: for i < b.N),
#     and of a StopTimer/StartTimer pair (100000 pairs). -count=10 in one
#     process, medians.
#  2. Run-to-run spread: a compute-bound benchmark (1000 dependent xorshift
#     steps), one process per run, C and Go runs interleaved, N runs each:
#     median ns/op, (max - min) / median, half the interquartile range /
#     median, and the +- that cprof benchstat prints for the N runs (the 95%
#     confidence interval of the median).
#
# Output: a markdown table on stdout, also appended to BUILD/bench/results.md
# when that file exists. Exit status 1 when a run fails. Nothing is judged
# but the goal column (overhead under 1 ns per iteration).
#
# Usage: bench/harness_bench.sh BUILD_DIR
#   CPROF_HARNESS_BENCH_N=10   runs for the spread
#   CPROF_BENCH_QUICK=1        3 runs, -benchtime=100ms
set -u
B=${1:?usage: bench/harness_bench.sh BUILD_DIR}
N=${CPROF_HARNESS_BENCH_N:-10}
BT=1s TX=100000x
[ "${CPROF_BENCH_QUICK:-}" = 1 ] && N=3 BT=100ms TX=10000x
cbin=$B/tests/bench/bench_overhead cprof=$B/bin/cprof
for f in "$cbin" "$cprof"; do
	[ -x "$f" ] || { echo "harness_bench: $f is missing: run make bench" >&2; exit 1; }
done
command -v go >/dev/null 2>&1 || { echo "harness_bench: go is missing: scripts/deps.sh bench installs it" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cprof-hbench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failed=0

# The Go anchor: the same benchmarks, compiled once into a test binary.
mkdir -p "$tmp/go"
printf 'module cprof/overhead\n\ngo 1.19\n' >"$tmp/go/go.mod"
cat >"$tmp/go/overhead_test.go" <<'GO'
package overhead

import "testing"

var sink uint64

func BenchmarkEmptyFor(b *testing.B) {
	for i := 0; i < b.N; i++ {
	}
}

func BenchmarkTimerStopStart(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		b.StartTimer()
	}
}

func BenchmarkStable(b *testing.B) {
	x := uint64(88172645463325252)
	for i := 0; i < b.N; i++ {
		for k := 0; k < 1000; k++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
	}
	sink = x
}
GO
gbin=$tmp/go/overhead.test
if ! (cd "$tmp/go" && GOCACHE=$tmp/gocache GOFLAGS=-mod=mod GOPATH=$tmp/gopath go test -c -o "$gbin" . >"$tmp/go.err" 2>&1); then
	echo "harness_bench: go test -c failed: $(head -c 300 "$tmp/go.err")" >&2
	exit 1
fi

load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "harness_bench: overhead runs" >&2
# Each empty-loop benchmark in a process of its own, timed by bench_runner
# (when make bench built it): the process's CPU time / wall time is the
# share of the CPU it got, which scales ns/op to time on the CPU.
runner=$B/bench/bench_runner
: >"$tmp/c_over.txt"
: >"$tmp/go_over.txt"
: >"$tmp/share.txt"
over() { # side name command...
	local side=$1 name=$2 out=$tmp/run.out
	shift 2
	if [ -x "$runner" ]; then
		line=$("$runner" -o "$out" -- "$@") || failed=1
		echo "$side $name $line" >>"$tmp/share.txt"
	else
		"$@" >"$out" || failed=1
	fi
	cat "$out" >>"$tmp/${side}_over.txt"
}
over c EmptyFor "$cbin" -bench 'EmptyFor' -count 10 -benchtime "$BT" -cpu 1
over c EmptyLoop "$cbin" -bench 'EmptyLoop' -count 10 -benchtime "$BT" -cpu 1
over go EmptyFor "$gbin" -test.run '^$' -test.bench 'EmptyFor' -test.count 10 -test.benchtime "$BT" -test.cpu 1
# A fixed count for the timer pair: Go's StopTimer/StartTimer read the
# allocation statistics, which stops the world, so timing 1 s of them
# takes minutes of untimed work.
"$cbin" -bench 'Timer' -count 10 -benchtime "$TX" -cpu 1 >>"$tmp/c_over.txt" || failed=1
"$gbin" -test.run '^$' -test.bench 'Timer' -test.count 10 -test.benchtime "$TX" -test.cpu 1 >>"$tmp/go_over.txt" || failed=1
for ((r = 1; r <= N; r++)); do
	echo "harness_bench: spread run $r/$N" >&2
	"$cbin" -bench 'Stable' -benchtime "$BT" -cpu 1 >>"$tmp/c_stable.txt" || failed=1
	"$gbin" -test.run '^$' -test.bench 'Stable' -test.benchtime "$BT" -test.cpu 1 >>"$tmp/go_stable.txt" || failed=1
done

# stats FILE NAME: "median min max q1 q3 count" of NAME's ns/op.
stats() {
	awk -v n="$2" '$1 == n { print $3 }' "$1" | sort -g | awk '
		function q(p,    x, i) { x = 1 + p * (NR - 1); i = int(x); return i >= NR ? v[NR] : v[i] + (x - i) * (v[i + 1] - v[i]) }
		{ v[NR] = $1 }
		END { if (NR == 0) { print "- - - - - 0"; exit } printf "%s %s %s %s %s %d\n", q(0.5), v[1], v[NR], q(0.25), q(0.75), NR }'
}
oncpu() { # side name median-ns: median x CPU time / wall time of its process
	awk -v s="$1" -v n="$2" -v m="$3" '$1 == s && $2 == n && $3 > 0 && m != "-" { printf "%.3f", m * ($4 + $5) / $3; f = 1 } END { if (!f) print "-" }' "$tmp/share.txt"
}
ci() { # the +- of cprof benchstat for FILE's Stable row
	"$cprof" benchstat "$1" 2>/dev/null | awk '$1 == "Stable" { for (i = 1; i <= NF; i++) if ($i == "±") { print $(i + 1); exit } }'
}

out=$tmp/table.md
{
	echo "### Benchmark harness (libcprof-bench) vs go test: overhead and run-to-run spread"
	echo
	echo "- command: \`make bench\` (bench/harness_bench.sh $B), -cpu=1, -benchtime=$BT; $(go version | awk '{ print $3 }'), $(${CC:-cc} --version | head -n 1)"
	echo "- machine: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) CPUs, load average $load0 before, $(cut -d' ' -f1-3 /proc/loadavg) after"
	echo
	echo "10 measurements of each in one process. ns/op is wall time, as in Go; on a loaded machine it includes time the process waited for a CPU. \"on CPU\" scales the median by the process's CPU time / wall time (bench_runner, wait4), an estimate of the cost itself; the goal is judged on it."
	echo
	echo "| benchmark | C: median ns/op | C: min | C: on CPU | Go: median ns/op | Go: min | Go: on CPU | C / Go (medians) | goal |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
	for b in EmptyFor EmptyLoop TimerStopStart; do
		set -- $(stats "$tmp/c_over.txt" "Benchmark$b")
		c=$1 cmin=$2
		set -- $(stats "$tmp/go_over.txt" "Benchmark$b")
		g=$1 gmin=$2 ratio=-
		[ "$g" != - ] && ratio=$(awk -v c="$c" -v g="$g" 'BEGIN { printf "%.2f", c / g }')
		ccpu=$(oncpu c "$b" "$c") gcpu=$(oncpu go "$b" "$g")
		goal=
		case $b in Empty*) goal=$(awk -v c="$ccpu" -v m="$cmin" 'BEGIN { v = (c == "-" ? m : c); print (v < 1 ? "< 1 ns: met" : "< 1 ns: MISSED") }') ;; esac
		[ "$b" = EmptyLoop ] && g="(b.Loop needs Go 1.24)" gmin=- gcpu=-
		echo "| $b | $c | $cmin | $ccpu | $g | $gmin | $gcpu | $ratio | $goal |"
	done
	echo
	echo "Run-to-run spread of BenchmarkStable (1000 dependent xorshift steps), $N runs, one process each, C and Go interleaved:"
	echo
	echo "| harness | median ns/op | min | max | (max - min) / median | half IQR / median | cprof benchstat ± |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	for side in C Go; do
		f=$tmp/c_stable.txt
		[ $side = Go ] && f=$tmp/go_stable.txt
		set -- $(stats "$f" BenchmarkStable)
		awk -v s="$side" -v m="$1" -v lo="$2" -v hi="$3" -v q1="$4" -v q3="$5" -v ci="$(ci "$f")" 'BEGIN {
			printf "| %s | %.1f | %.1f | %.1f | %.2f %% | %.2f %% | %s |\n", s, m, lo, hi, 100 * (hi - lo) / m, 50 * (q3 - q1) / m, ci }'
	done
} >"$out"
cat "$out"
[ -f "$B/bench/results.md" ] && { echo; cat "$out"; } >>"$B/bench/results.md"
exit "$failed"
