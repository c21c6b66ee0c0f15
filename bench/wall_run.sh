#!/usr/bin/env bash
# bench/wall_run.sh - the wall-clock profiler's cost on a program with 32
# mostly idle threads, side by side with no profiler, in one run, as a
# ratio of medians. `make bench` runs it after bench/run.sh; `make
# bench-wall` runs it alone.
#
# Workload: tests/progs/wall_idle SECONDS MILLIONS - 32 threads that wake
# every millisecond (nanosleep, poll, sem_timedwait, select, epoll_wait)
# for a few microseconds of work, and a main thread doing a fixed amount of
# work (MILLIONS million multiply-adds): the run's wall time is how long
# that work takes with the idle threads around.
# Configurations (baseline in brackets):
#   base        no profiler
#   preload     LD_PRELOAD=libcprof.so, no profile asked              [base]
#   wall-100    LD_PRELOAD=libcprof.so CPROF_WALLPROFILE=F, 100 Hz    [base]
#   wall-1000   the same at CPROF_WALL_HZ=1000                        [base]
# Every run is one command timed by bench_runner (wait4). Rounds are
# interleaved, each starting at a different configuration; figures are
# medians; overhead = median(configuration) / median(base) - 1. The
# program's own count of waits cut short by EINTR is reported too (it must
# be 0 in every run).
#
# Output: a markdown table on stdout, appended to APPEND_TO when given.
# Exit status 1 when a run fails, leaves no profile, or sees an EINTR.
#
# Usage: bench/wall_run.sh BUILD_DIR [APPEND_TO]
#   CPROF_WALL_BENCH_N=11   rounds
#   CPROF_BENCH_QUICK=1     3 rounds, shorter work
set -u
B=${1:?usage: bench/wall_run.sh BUILD_DIR [APPEND_TO]}
append=${2:-}
N=${CPROF_WALL_BENCH_N:-11}
MIL=1500
if [ "${CPROF_BENCH_QUICK:-}" = 1 ]; then
	N=3 MIL=300
fi
runner=$B/bench/bench_runner
prog=$B/tests/progs/wall_idle
lib=$B/lib/libcprof.so
for f in "$runner" "$prog" "$lib"; do
	[ -e "$f" ] || { echo "bench: $f is missing: run make bench" >&2; exit 1; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cprof-wallbench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
names=(base preload wall-100 wall-1000)
envs=("" "LD_PRELOAD=$lib" "LD_PRELOAD=$lib CPROF_WALLPROFILE=@P@ CPROF_WALL_HZ=100"
	"LD_PRELOAD=$lib CPROF_WALLPROFILE=@P@ CPROF_WALL_HZ=1000")
failed=0
: >"$tmp/runs"
for ((r = 0; r < N; r++)); do
	for ((k = 0; k < ${#names[@]}; k++)); do
		c=$(((r + k) % ${#names[@]}))
		prof=$tmp/p.$c.$r
		env=${envs[$c]//@P@/$prof}
		# shellcheck disable=SC2086
		if ! t=$("$runner" -o "$tmp/out" -e "$tmp/err" $env -- "$prog" 0 "$MIL"); then
			echo "bench: ${names[$c]} round $r failed: $(tail -n 2 "$tmp/err")" >&2
			failed=1
			continue
		fi
		eintr=$(sed -n 's/.*eintr=\([0-9]*\).*/\1/p' "$tmp/out")
		[ "${eintr:-x}" = 0 ] || { echo "bench: ${names[$c]} round $r: eintr=${eintr:-?}" >&2; failed=1; }
		case "${names[$c]}" in wall-*)
			go tool pprof -raw "$prof" >/dev/null 2>&1 || { echo "bench: ${names[$c]}: no readable profile" >&2; failed=1; } ;;
		esac
		echo "${names[$c]} $r $t ${eintr:-?}" >>"$tmp/runs"
		echo "bench: wall round $((r + 1))/$N ${names[$c]} $t" >&2
	done
done
{
	echo
	echo "### Wall-clock profiler: 32 mostly idle threads, overhead = median / median(base) - 1"
	echo
	echo "Command: \`bench/wall_run.sh build\` ($N interleaved rounds; wall_idle 0 $MIL; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs)"
	echo
	echo "| configuration | median wall | median user+sys | wall overhead | EINTR seen | goal |"
	echo "|---|---|---|---|---|---|"
	awk '
	function median(a, n,   i, j, t) {
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	{ n[$1]++; w[$1, n[$1]] = $3; c[$1, n[$1]] = $4 + $5; e[$1] += $6 }
	END {
		split("base preload wall-100 wall-1000", order, " ")
		for (k = 1; k <= 4; k++) {
			x = order[k]; if (!n[x]) continue
			for (i = 1; i <= n[x]; i++) { ww[i] = w[x, i]; cc[i] = c[x, i] }
			mw[x] = median(ww, n[x]); mc[x] = median(cc, n[x])
		}
		for (k = 1; k <= 4; k++) {
			x = order[k]; if (!n[x]) continue
			ov = k == 1 ? "-" : sprintf("%+.1f%%", 100 * (mw[x] / mw["base"] - 1))
			goal = x == "wall-100" ? (mw[x] / mw["base"] - 1 <= 0.02 ? "<= 2%: met" : "<= 2%: missed") : ""
			printf "| %s | %.3f s | %.3f s | %s | %d | %s |\n", x, mw[x] / 1e9, mc[x] / 1e9, ov, e[x], goal
		}
	}' "$tmp/runs"
} | tee -a "${append:-/dev/null}"
exit $failed
