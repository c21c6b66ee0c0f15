#!/usr/bin/env bash
# bench/trace_run.sh - the execution tracer's cost. `make bench` runs it
# after bench/run.sh; `make bench-trace` runs it alone.
#
# 1. Annotation cost: tests/progs/trace_bench_linked annot N times N
#    region begin+end pairs on one thread with no trace and with a trace
#    running (written to a file), and, in the same run, N pairs of TSC reads
#    alone (the two timestamps a pair needs); ns per pair in wall time and
#    in the thread's CPU time (which a loaded machine's preemptions do not
#    inflate); median of 5 runs; and the trace's bytes per event.
# 2. A lock-heavy program: trace_bench_linked plain M (4 threads, one
#    mutex, M million critical sections in all, no annotations), without
#    and with CPROF_TRACE: what tracing (its blocking episodes, the
#    releasing thread tracked through every contended unlock) costs.
# 3. A lock-heavy program with real work (trace_bench_linked work W: a
#    producer, a bounded job queue under a mutex and two condition
#    variables, 4 workers that hash each job outside any lock and update a
#    shared hash table under another mutex; W million jobs), without and
#    with CPROF_TRACE: the program the 5% goal is judged on.
# 4. The same with a region around every critical section
#    (trace_bench_linked locks M): the densest annotation a program could
#    have.
#    2, 3 and 4 run in interleaved rounds timed by bench_runner; overhead =
#    median(traced) / median(base) - 1, in wall and in user+sys time.
# 5. Exports: a trace of trace_bench_linked locks E (E million critical
#    sections, 4 threads) written by cprof trace as text, Chrome JSON and
#    Perfetto protobuf, and as the sync profile (-pprof=sync): bytes per
#    event of each output, and the time to write it (to /dev/null) in
#    interleaved rounds timed by bench_runner: events per second of wall and
#    of user+sys time, medians.
#
# Output: markdown on stdout, appended to APPEND_TO when given. Exit status
# 1 when a run fails or a trace does not decode.
#
# Usage: bench/trace_run.sh BUILD_DIR [APPEND_TO]
#   CPROF_TRACE_BENCH_N=11   rounds
#   CPROF_TRACE_BENCH_LOCKS=1  only the lock-heavy programs (2, 3, 4)
#   CPROF_BENCH_QUICK=1      3 rounds, shorter work
set -u
B=${1:?usage: bench/trace_run.sh BUILD_DIR [APPEND_TO]}
append=${2:-}
N=${CPROF_TRACE_BENCH_N:-11}
PAIRS=20000000 MIL=8 WMIL=1 EMIL=2
if [ "${CPROF_BENCH_QUICK:-}" = 1 ]; then
	N=3 PAIRS=2000000 MIL=4 EMIL=1
fi
only_locks=${CPROF_TRACE_BENCH_LOCKS:-0}
runner=$B/bench/bench_runner
prog=$B/tests/progs/trace_bench_linked
cprof=$B/bin/cprof
for f in "$runner" "$prog" "$cprof"; do
	[ -e "$f" ] || { echo "bench: $f is missing: run make bench" >&2; exit 1; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cprof-tracebench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failed=0

: >"$tmp/annot"
for ((r = 0; r < 5 && only_locks != 1; r++)); do
	if ! "$prog" annot "$PAIRS" "$tmp/a.trace" >>"$tmp/annot"; then failed=1; fi
	echo "bench: trace annotations run $((r + 1))/5: $(tail -n 1 "$tmp/annot")" >&2
done
if [ "$only_locks" != 1 ]; then
	"$cprof" trace -format=text "$tmp/a.trace" >/dev/null || { echo "bench: the annotation trace does not decode" >&2; failed=1; }
fi

# Configurations of the interleaved rounds: name, mode, millions, traced.
names=(plain plain+trace work work+trace locks locks+trace)
modes=(plain plain work work locks locks)
mils=("$MIL" "$MIL" "$WMIL" "$WMIL" "$MIL" "$MIL")
traced=(0 1 0 1 0 1)
nc=${#names[@]}
: >"$tmp/runs"
: >"$tmp/sizes"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 0; r < N; r++)); do
	for ((k = 0; k < nc; k++)); do
		c=$(((r + k) % nc))
		env=""
		[ "${traced[$c]}" = 1 ] && env="CPROF_TRACE=$tmp/l.trace"
		# shellcheck disable=SC2086
		if ! t=$("$runner" -o "$tmp/out" -e "$tmp/err" $env -- "$prog" "${modes[$c]}" "${mils[$c]}"); then
			echo "bench: ${names[$c]} round $r failed: $(tail -n 2 "$tmp/err")" >&2
			failed=1
			continue
		fi
		if [ "${traced[$c]}" = 1 ]; then
			# The summary line: "# pid P, E events, ...".
			"$cprof" trace -format=text "$tmp/l.trace" >"$tmp/l.txt" 2>/dev/null
			ev=$(tail -n 1 "$tmp/l.txt" | awk '$1 == "#" { print $4 }')
			[ -n "$ev" ] || { echo "bench: ${names[$c]} round $r: the trace does not decode" >&2; failed=1; }
			blocks=$(grep -c ' block ' "$tmp/l.txt")
			# Mutex waits, and those whose releaser is not known.
			mx=$(awk '/ block reason=mutex / { n++; if ($0 !~ / peer=[1-9]/) u++ } END { print n + 0, u + 0 }' "$tmp/l.txt")
			sz=$(stat -c %s "$tmp/l.trace")
			echo "${modes[$c]} ${ev:-0} $sz $blocks $mx" >>"$tmp/sizes"
		fi
		echo "${names[$c]} $r $t" >>"$tmp/runs"
		echo "bench: trace round $((r + 1))/$N ${names[$c]} $t" >&2
	done
done
# Exports of one trace: sizes once, then interleaved timed rounds.
if [ "$only_locks" = 1 ]; then
	:
elif CPROF_TRACE=$tmp/e.trace "$prog" locks "$EMIL" >/dev/null 2>"$tmp/e.err"; then
	eev=$("$cprof" trace -format=text "$tmp/e.trace" 2>/dev/null | tail -n 1 | awk '$1 == "#" { print $4 }')
	: >"$tmp/exports"
	for x in text json perfetto pprof; do
		if [ $x = pprof ]; then args="-pprof=sync"; else args="-format=$x"; fi
		"$cprof" trace $args -o "$tmp/e.out" "$tmp/e.trace" 2>/dev/null || { echo "bench: export $x failed" >&2; failed=1; }
		echo "size $x $(stat -c %s "$tmp/e.out")" >>"$tmp/exports"
		rm -f "$tmp/e.out"
	done
	xs=(text json perfetto pprof)
	for ((r = 0; r < N; r++)); do
		for ((k = 0; k < 4; k++)); do
			x=${xs[$(((r + k) % 4))]}
			if [ $x = pprof ]; then args="-pprof=sync"; else args="-format=$x"; fi
			if t=$("$runner" -e "$tmp/err" -- "$cprof" trace $args -o /dev/null "$tmp/e.trace"); then
				echo "time $x $t" >>"$tmp/exports"
			else
				echo "bench: export $x round $r failed: $(tail -n 2 "$tmp/err")" >&2
				failed=1
			fi
		done
		echo "bench: export round $((r + 1))/$N" >&2
	done
else
	echo "bench: the export trace failed: $(tail -n 2 "$tmp/e.err")" >&2
	failed=1
fi
{
	echo
	echo "### Execution tracer"
	echo
	echo "Command: \`make bench-trace\` (\`bench/trace_run.sh build\`; annotations: 5 runs of $PAIRS pairs; lock-heavy programs: $N interleaved rounds of trace_bench_linked plain $MIL, work $WMIL and locks $MIL; load average before the rounds: $load0, at the end: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs)"
	echo
	[ -s "$tmp/annot" ] && awk '
	function median(a, n,   i, j, t) {
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1], NR] = kv[2] } n = NR }
	END {
		split("off_ns on_ns tsc2_ns off_cpu_ns on_cpu_ns tsc2_cpu_ns", keys, " ")
		for (k = 1; k <= 6; k++) { for (i = 1; i <= n; i++) a[i] = v[keys[k], i]; m[keys[k]] = median(a, n) }
		for (i = 1; i <= n; i++) bpe[i] = v["bytes", i] / v["events", i]
		printf "| region begin+end, one thread | median ns per pair (wall) | median ns per pair (thread CPU) | goal |\n|---|---|---|---|\n"
		printf "| tracing off | %.2f | %.2f | single branch |\n", m["off_ns"], m["off_cpu_ns"]
		printf "| tracing on | %.2f | %.2f | < 10 ns: %s |\n", m["on_ns"], m["on_cpu_ns"], m["on_cpu_ns"] < 10 ? "met" : "missed"
		printf "| two TSC reads alone (the pair'"'"'s timestamps), same run | %.2f | %.2f | |\n", m["tsc2_ns"], m["tsc2_cpu_ns"]
		printf "| tracing on, less the two TSC reads | %.2f | %.2f | |\n", m["on_ns"] - m["tsc2_ns"], m["on_cpu_ns"] - m["tsc2_cpu_ns"]
		printf "\nTrace size: %.2f bytes per event (region begin or end, with chunk and clock records).\n\n", median(bpe, n)
	}' "$tmp/annot"
	echo "| program | median wall | median user+sys | wall overhead | user+sys overhead | goal (<= 5%) |"
	echo "|---|---|---|---|---|---|"
	awk '
	function median(a, n,   i, j, t) {
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function verdict(x) { return x <= 0.05 ? "met" : "missed" }
	{ n[$1]++; w[$1, n[$1]] = $3; c[$1, n[$1]] = $4 + $5 }
	END {
		split("plain plain+trace work work+trace locks locks+trace", order, " ")
		for (k = 1; k <= 6; k++) {
			x = order[k]; if (!n[x]) continue
			for (i = 1; i <= n[x]; i++) { ww[i] = w[x, i]; cc[i] = c[x, i] }
			mw[x] = median(ww, n[x]); mc[x] = median(cc, n[x])
		}
		split("empty critical sections (4 threads, one mutex), no trace|the same, traced|job queue and shared table (producer, 4 workers), no trace|the same, traced|empty critical sections, a region around each, no trace|the same, traced", label, "|")
		for (k = 1; k <= 6; k++) {
			x = order[k]; if (!n[x]) continue
			base = order[k % 2 ? k : k - 1]
			ow = k % 2 ? "-" : sprintf("%+.1f%%", 100 * (mw[x] / mw[base] - 1))
			oc = k % 2 ? "-" : sprintf("%+.1f%%", 100 * (mc[x] / mc[base] - 1))
			goal = k == 2 || k == 4 ? sprintf("CPU %s, wall %s", verdict(mc[x] / mc[base] - 1), verdict(mw[x] / mw[base] - 1)) : ""
			printf "| %s | %.3f s | %.3f s | %s | %s | %s |\n", label[k], mw[x] / 1e9, mc[x] / 1e9, ow, oc, goal
		}
	}' "$tmp/runs"
	awk -v wmil="$WMIL" -v mil="$MIL" '
	function median(a, n,   i, j, t) {
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	FILENAME ~ /runs$/ { if ($1 == "work") { nw++; ww[nw] = $3 } if ($1 == "plain") { np++; wp[np] = $3 } next }
	{ e[$1] += $2; s[$1] += $3; b[$1] += $4; r[$1]++; nb[$1, r[$1]] = $4; mx[$1] += $5; mu[$1] += $6 }
	END {
		if (r["plain"]) {
			for (i = 1; i <= r["plain"]; i++) a[i] = nb["plain", i]
			printf "\nEmpty critical sections traced: %.0f events per run, %.0f of them blocking episodes (median %.0f), %.2f bytes per event; %.1f million lock operations a second untraced.\n", e["plain"] / r["plain"], b["plain"] / r["plain"], median(a, r["plain"]), s["plain"] / e["plain"], np ? mil / (median(wp, np) / 1e9) : 0
		}
		if (r["work"]) {
			for (i = 1; i <= r["work"]; i++) a[i] = nb["work", i]
			mw = nw ? median(ww, nw) / 1e9 : 0
			printf "Job queue traced: %.0f events per run, %.0f of them blocking episodes (median %.0f), %.2f bytes per event. Untraced it makes %.1f million mutex acquisitions a second (3 per job) and %.1f million condition signals (2 per job); traced, %.0f thousand blocking episodes a second.\n", e["work"] / r["work"], b["work"] / r["work"], median(a, r["work"]), s["work"] / e["work"], mw ? 3 * wmil / mw : 0, mw ? 2 * wmil / mw : 0, mw ? median(a, r["work"]) / mw / 1000 : 0
		}
		for (x in mx) if (mx[x]) printf "Mutex waits of the %s program traced: %.0f per run, the releasing thread known for %.1f%% of them.\n", x, mx[x] / r[x], 100 * (1 - mu[x] / mx[x])
		if (r["locks"]) printf "Annotated lock-heavy trace: %.0f events per run (nearly all region begins and ends), %.2f bytes per event.\n", e["locks"] / r["locks"], s["locks"] / e["locks"]
	}' "$tmp/runs" "$tmp/sizes"
	if [ -s "$tmp/exports" ]; then
		echo
		echo "Exports of one trace of \`trace_bench_linked locks $EMIL\` (${eev:-?} events, $(stat -c %s "$tmp/e.trace" 2>/dev/null) bytes; $N interleaved rounds, output to /dev/null):"
		echo
		echo "| cprof trace | output bytes per event | median wall | median user+sys | events/s (wall) | events/s (user+sys) |"
		echo "|---|---|---|---|---|---|"
		awk -v ev="${eev:-0}" '
		function median(a, n,   i, j, t) {
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		$1 == "size" { size[$2] = $3 }
		$1 == "time" { n[$2]++; w[$2, n[$2]] = $3; c[$2, n[$2]] = $4 + $5 }
		END {
			split("text json perfetto pprof", order, " ")
			label["text"] = "-format=text"; label["json"] = "-format=json"; label["perfetto"] = "-format=perfetto"; label["pprof"] = "-pprof=sync"
			for (k = 1; k <= 4; k++) {
				x = order[k]; if (!n[x] || !ev) continue
				for (i = 1; i <= n[x]; i++) { ww[i] = w[x, i]; cc[i] = c[x, i] }
				mw = median(ww, n[x]); mc = median(cc, n[x])
				printf "| %s | %s | %.3f s | %.3f s | %.2f M | %.2f M |\n", label[x], x == "pprof" ? sprintf("%d bytes in all", size[x]) : sprintf("%.1f", size[x] / ev), mw / 1e9, mc / 1e9, ev / (mw / 1e9) / 1e6, ev / (mc / 1e9) / 1e6
			}
		}' "$tmp/exports"
	fi
} | tee -a "${append:-/dev/null}"
exit $failed
