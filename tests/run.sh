#!/usr/bin/env bash
# Runs every unit test binary and every end-to-end script, and ends with one
# line "N passed, N failed". Each test prints "PASS <name>" or
# "FAIL <name>: <why>" lines; a test that exits non-zero without printing a
# FAIL line counts as one failure, and one that prints nothing at all as well.
# The failures are repeated just before that last line.
#
# Usage: tests/run.sh [BUILD_DIR] [FILTER]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
filter=${2:-}
export CPROF_TOP=$top CPROF_BUILD=$build
passed=0 failed=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

run_one() { # name cmd...
	local name=$1; shift
	case "$name" in *"$filter"*) ;; *) return ;; esac
	local out=$log/out rc
	local start=$SECONDS
	timeout -k 10 600 "$@" >"$out" 2>"$log/err" </dev/null
	rc=$?
	local p f
	p=$(grep -c '^PASS ' "$out")
	f=$(grep -c '^FAIL ' "$out")
	grep -E '^(PASS|FAIL|INFO) ' "$out" | sed "s|^|[$name] |"
	grep -E '^FAIL ' "$out" | sed "s|^|[$name] |" >>"$log/failures"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "[$name] FAIL $name: exited with status $rc" | tee -a "$log/failures"
		f=1
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "[$name] FAIL $name: ran no check" | tee -a "$log/failures"
		f=1
	fi
	if [ "$f" -ne 0 ]; then
		echo "[$name] --- stderr (last 30 lines) ---"
		tail -n 30 "$log/err" | sed "s|^|[$name]   |"
	fi
	echo "[$name] ($((SECONDS - start))s)"
	passed=$((passed + p))
	failed=$((failed + f))
}

for t in "$build"/tests/unit/test_*; do
	[ -x "$t" ] || continue
	run_one "$(basename "$t")" "$t"
done
for t in "$top"/tests/e2e/*.sh; do
	[ -f "$t" ] || continue
	[ "$(basename "$t")" = lib.sh ] && continue # helpers the scripts source
	run_one "$(basename "$t" .sh)" bash "$t"
done
for t in "$build"/fuzz/replay_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	run_one "$name" "$t" "$top/fuzz/corpus/${name#replay_}"
done

# The failures again, so that the end of a long log says what failed.
if [ -s "$log/failures" ]; then
	echo "--- failures ---"
	cat "$log/failures"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
