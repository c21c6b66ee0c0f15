#!/usr/bin/env bash
# bench/trace_viewer_bench.sh - the trace viewer (`cprof trace -http`) on big
# traces, measured in the browser (headless Chromium through playwright-core,
# tests/web). `make bench-trace-viewer` runs it alone; `make bench` runs it
# after bench/trace_run.sh.
#
# Traces: tests/progs/trace_big_linked M (4 threads, nested regions around a
# shared mutex, tasks and log messages: about M million events), recorded
# under CPROF_TRACE. Sizes 1 and 10 million events, served side by side: the rounds
# alternate between the two servers, so the ratio of medians (10M / 1M) says
# how the viewer's costs grow with the trace.
#
# Per size: the server's time and CPU (user+sys) to decode and index the
# trace (start to "Serving"); per round (a fresh page, tests/web/trace_bench.mjs)
# the time to first draw (navigation start to the timeline drawn with data)
# and the time of each zoom/pan (key or wheel to the new view drawn with its
# data); the server's CPU per interaction. Timing is printed, never judged.
#
# Usage: bench/trace_viewer_bench.sh BUILD_DIR [APPEND_TO]
#   CPROF_TRACE_VIEWER_N=5     rounds per size
#   CPROF_BENCH_QUICK=1        3 rounds
set -u
B=${1:?usage: bench/trace_viewer_bench.sh BUILD_DIR [APPEND_TO]}
append=${2:-}
top=$(cd "$(dirname "$0")/.." && pwd)
N=${CPROF_TRACE_VIEWER_N:-5}
[ "${CPROF_BENCH_QUICK:-}" = 1 ] && N=3
cprof=$B/bin/cprof prog=$B/tests/progs/trace_big_linked web=$top/tests/web
for f in "$cprof" "$prog"; do
	[ -x "$f" ] || { echo "trace_viewer_bench: $f is missing: run make bench-trace-viewer" >&2; exit 1; }
done
for c in node /usr/bin/chromium; do
	command -v "$c" >/dev/null 2>&1 || { echo "trace_viewer_bench: $c is missing: scripts/deps.sh test installs it" >&2; exit 1; }
done
if [ ! -d "$web/node_modules/playwright-core" ]; then
	(cd "$web" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >&2) || exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cprof-tvbench.XXXXXX")
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
export HOME=$tmp/home
mkdir -p "$HOME"
load() { cut -d' ' -f1 /proc/loadavg; }
# CPU time of a process in ms: the run time of each of its threads (schedstat, in ns).
cpu_ms() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.1f", s / 1e6 }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit } print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A url pid events bytes idx_ms idx_cpu rss
for m in 1 10; do
	t=$tmp/m$m.trace
	if ! CPROF_TRACE=$t "$prog" "$m" >/dev/null 2>"$tmp/rec.err"; then
		echo "trace_viewer_bench: recording failed: $(tail -2 "$tmp/rec.err")" >&2
		exit 1
	fi
	events[$m]=$("$cprof" trace -format=text "$t" | tail -1 | sed -n 's/.*, \([0-9]*\) events.*/\1/p')
	bytes[$m]=$(stat -c %s "$t")
	start=$(date +%s%N)
	"$cprof" trace -http=127.0.0.1:0 -no_browser "$t" >"$tmp/s$m.out" 2>"$tmp/s$m.err" &
	pid[$m]=$!
	pids="$pids ${pid[$m]}"
	for _ in $(seq 1 6000); do
		grep -q '^Serving' "$tmp/s$m.out" 2>/dev/null && break
		kill -0 "${pid[$m]}" 2>/dev/null || break
		sleep 0.01
	done
	idx_ms[$m]=$((($(date +%s%N) - start) / 1000000))
	idx_cpu[$m]=$(cpu_ms "${pid[$m]}")
	rss[$m]=$(awk '/^VmRSS/ { print $2 }' "/proc/${pid[$m]}/status")
	url[$m]=$(sed -n 's/^Serving trace viewer on //p' "$tmp/s$m.out")
	[ -n "${url[$m]}" ] || { echo "trace_viewer_bench: server did not start: $(cat "$tmp/s$m.err")" >&2; exit 1; }
	echo "trace_viewer_bench: ${events[$m]} events, ${bytes[$m]} bytes, indexed in ${idx_ms[$m]} ms (${idx_cpu[$m]} ms CPU), RSS ${rss[$m]} kB" >&2
done

l0=$(load)
for ((r = 0; r < N; r++)); do
	for m in 1 10; do
		c0=$(cpu_ms "${pid[$m]}")
		(cd "$web" && timeout 600 node trace_bench.mjs "${url[$m]}" 1) >>"$tmp/r$m.jsonl" 2>"$tmp/b.err" ||
			{ echo "trace_viewer_bench: browser round failed: $(tail -3 "$tmp/b.err")" >&2; exit 1; }
		awk -v a="$c0" -v b="$(cpu_ms "${pid[$m]}")" 'BEGIN { printf "%.1f\n", b - a }' >>"$tmp/cpu$m"
	done
done
l1=$(load)

declare -A first inter imax scpu
for m in 1 10; do
	first[$m]=$(sed -n 's/.*"first":\([0-9.]*\).*/\1/p' "$tmp/r$m.jsonl" | median)
	sed -n 's/.*"interactions":\[\([^]]*\)\].*/\1/p' "$tmp/r$m.jsonl" | tr ',' '\n' >"$tmp/i$m"
	inter[$m]=$(median <"$tmp/i$m")
	imax[$m]=$(sort -g "$tmp/i$m" | tail -1)
	# server CPU per page: the first window and 10 interactions' queries
	scpu[$m]=$(median <"$tmp/cpu$m")
done
out=$tmp/table.md
{
	echo "### cprof trace -http: the timeline on big traces ($N rounds a size, alternating; $(nproc) CPUs, load $l0 -> $l1)"
	echo
	echo "| events | file | decode + index (wall / CPU) | server memory (RSS, file mapped) | first draw (median) | zoom/pan (median / max of $((N * 10))) | server CPU a page (first windows + 10 interactions, median) |"
	echo "|---:|---:|---:|---:|---:|---:|---:|"
	for m in 1 10; do
		awk -v e="${events[$m]}" -v b="${bytes[$m]}" -v iw="${idx_ms[$m]}" -v ic="${idx_cpu[$m]}" -v f="${first[$m]}" \
			-v im="${inter[$m]}" -v ix="${imax[$m]}" -v sc="${scpu[$m]}" -v r="${rss[$m]}" 'BEGIN {
			printf "| %d | %.1f MiB | %d ms / %.0f ms | %.0f MiB | %.0f ms | %.1f ms / %.1f ms | %.1f ms |\n", e, b / 1048576, iw, ic, r / 1024, f, im, ix, sc }'
	done
	awk -v a="${first[1]}" -v b="${first[10]}" -v c="${inter[1]}" -v d="${inter[10]}" 'BEGIN {
		printf "\nRatio of medians, 10M / 1M events: first draw %.2f, zoom/pan %.2f.\n", b / a, d / c }'
	echo
	echo "Traces: CPROF_TRACE=FILE tests/progs/trace_big_linked 1 (and 10). Browser: $(/usr/bin/chromium --version 2>/dev/null | head -1), headless, 1280x800."
} >"$out"
cat "$out"
[ -n "$append" ] && { echo; cat "$out"; } >>"$append"
exit 0
