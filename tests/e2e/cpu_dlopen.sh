#!/usr/bin/env bash
# cpu_dlopen.sh - a library loaded and unloaded 200 times under -hz=1000.
#
# tests/progs/dlopen_loop dlopen()s libdlwork.so, runs its dlwork_burn,
# dlclose()s it, then runs the same work in main_burn, 200 times. By the
# time the profile is written the library is gone; the runtime tagged its
# frames at dlclose and names them from the file. No crash or hang, a valid
# profile, and dlwork_burn named with its share: 50% of the samples, within
# 4 binomial sigma (dlopen/dlclose themselves cost a little), and the
# library's mapping present with its file name. (Until 5c81b58 the runtime
# crashed writing this profile.) Again with the heap profiler on, whose
# profile is written at exit first: its symbolization leaves the table of
# unloaded modules to the CPU profile, and dlwork_burn is still named.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

UNIT_S=$(unit_seconds)
per=$(units_for 0.008)
lib=$PROGS/libdlwork.so
out=$(timeout -k 5 120 "$CPROF" run -cpuprofile="$T/dl.prof" -hz=1000 -- "$PROGS/dlopen_loop" "$lib" 200 "$per" 2>"$T/err")
st=$?
if [ "$st" -ne 0 ]; then
	fail dlopen_run "exited $st: $(tail -n 3 "$T/err" | tr '\n' ' ')"
	exit 0
fi
pass dlopen_run "exit 0, $out ($per units per call)"
check_valid dlopen "$T/dl.prof" || exit 0
n=$(run_deliveries "$T/err" "$T/dl.prof")
bound=$(awk -v n="$n" 'BEGIN { b = n > 0 ? 400 * sqrt(0.25 / n) : 50; if (b < 3) b = 3; printf "%.1f", b }')
binomial_note 0.5 "$n" "$bound"
lo=$(awk -v b="$bound" 'BEGIN { print 50 - b }')
hi=$(awk -v b="$bound" 'BEGIN { print 50 + b }')
in_range dlopen_lib_share "$(cum_pct dlwork_burn "$T/dl.prof")" "$lo" "$hi" "50±$bound % cum, dlwork_burn in the unloaded library"
in_range dlopen_main_share "$(cum_pct main_burn "$T/dl.prof")" "$lo" "$hi" "50±$bound % cum, main_burn"
m=$(go tool pprof -raw "$T/dl.prof" 2>/dev/null | sed -n '/^Mappings/,$p' | grep -c " $lib ")
in_range dlopen_mapping "$m" 1 1000 "mappings naming $lib"

out=$(timeout -k 5 120 "$CPROF" run -cpuprofile="$T/dlh.prof" -memprofile="$T/dlh.mem" -hz=1000 -- "$PROGS/dlopen_loop" "$lib" 100 "$per" 2>"$T/errh")
st=$?
if [ "$st" -ne 0 ]; then
	fail dlopen_heap_run "exited $st: $(tail -n 3 "$T/errh" | tr '\n' ' ')"
	exit 0
fi
check_valid dlopen_heap "$T/dlh.prof" || exit 0
n=$(run_deliveries "$T/errh" "$T/dlh.prof")
bound=$(awk -v n="$n" 'BEGIN { b = n > 0 ? 400 * sqrt(0.25 / n) : 50; if (b < 3) b = 3; printf "%.1f", b }')
lo=$(awk -v b="$bound" 'BEGIN { print 50 - b }')
hi=$(awk -v b="$bound" 'BEGIN { print 50 + b }')
in_range dlopen_heap_lib_share "$(cum_pct dlwork_burn "$T/dlh.prof")" "$lo" "$hi" "50±$bound % cum, dlwork_burn named after the heap profile was symbolized"
