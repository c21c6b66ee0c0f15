#!/usr/bin/env bash
# cpu_api.sh - the C API of cprof.h, linked in (-lcprof), no environment.
#
# tests/progs/api_linked checks every return code itself (-EINVAL for bad
# rates and paths, -EBADF for a bad fd, -EBUSY on a second start or a rate
# change while running, -ESRCH on a stop without a start, 0 otherwise) and
# prints "ok|bad <check> got=.. want=..", each turned into a PASS or FAIL
# line here. Then the two profiles it wrote, one by path and one through a
# file descriptor, must be valid, sampled at the 500 Hz it asked for
# (period 2 ms), and hold only their own work function.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

UNIT_S=$(unit_seconds)
units=$(units_for 0.5)
out=$("$PROGS/api_linked" "$T/path.prof" "$T/fd.prof" "$units" 2>"$T/err")
st=$?
while read -r verdict check rest; do
	case "$verdict" in
	ok) pass "api_$check" "$rest" ;;
	bad) fail "api_$check" "$rest" ;;
	esac
done <<<"$out"
in_range api_exit "$st" 0 0 "exit status 0"
[ -s "$T/err" ] && info "stderr: $(tr '\n' ' ' <"$T/err")"

for which in path fd; do
	f=$T/$which.prof
	check_valid "api_$which" "$f" || continue
	period=$(go tool pprof -raw "$f" 2>/dev/null | awk '$1 == "Period:" { print $2 }')
	in_range "api_${which}_period" "$period" 2000000 2000000 "2000000 ns: the 500 Hz set by cprof_cpu_profile_set_rate"
done
own() { # name file present absent
	if has_func "$2" "$3" && ! has_func "$2" "$4"; then
		pass "$1" "$(basename "$2"): $3 $(cum_pct "$3" "$2")% cum, $4 absent"
	else
		fail "$1" "$(basename "$2"): $3 $(cum_pct "$3" "$2")% cum (want present), $4 $(cum_pct "$4" "$2")% (want absent)"
	fi
}
[ -s "$T/path.prof" ] && own api_path_contents "$T/path.prof" api_work_a api_work_b
[ -s "$T/fd.prof" ] && own api_fd_contents "$T/fd.prof" api_work_b api_work_a
no_temp_files "$T" api_no_temp
