#!/usr/bin/env bash
# cpu_setuid.sh - privileged programs are refused, not profiled.
#
# A setuid binary owned by another user (a copy of tests/progs/setuid_linked
# chowned to nobody, mode u+s) runs with euid != ruid, so the kernel sets
# AT_SECURE and the dynamic loader ignores LD_PRELOAD:
#   - "cprof run" must refuse it: non-zero exit, a message that names the
#     setuid bit, and the program must not run;
#   - run directly with CPROF_CPUPROFILE set, the linked-in runtime (it is
#     linked with -lcprof, so it loads anyway) must say it does not profile
#     privileged programs and write no profile.
# Needs root (to chown to another user); CI runs as root.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	pass setuid "skipped: not root, cannot make a binary setuid to another user"
	exit 0
fi

bin=$T/bin
out=$T/out
mkdir -p "$bin" "$out"
chmod 755 "$T" "$bin"
chmod 1777 "$out" # writable by nobody: a profile could be written, and must not be
cp "$PROGS/setuid_linked" "$bin/setuid_linked"
chown nobody "$bin/setuid_linked"
chmod 4755 "$bin/setuid_linked"
info "$(ls -l "$bin/setuid_linked")"

# The binary really runs privileged: euid nobody, ruid root, AT_SECURE.
line=$("$bin/setuid_linked" 1 2>/dev/null)
case "$line" in
*"ruid=0 euid=$(id -u nobody) secure=1"*) pass setuid_at_secure "$line" ;;
*) fail setuid_at_secure "'$line' (want ruid=0 euid=$(id -u nobody) secure=1; is $T mounted nosuid?)" ;;
esac

# cprof run refuses.
stdout=$("$CPROF" run -cpuprofile="$out/run.prof" -- "$bin/setuid_linked" 1 2>"$T/run.err")
st=$?
msg=$(tr '\n' ' ' <"$T/run.err")
if [ "$st" -ne 0 ] && grep -q 'setuid' "$T/run.err"; then
	pass setuid_run_refused "exit $st: $msg"
else
	fail setuid_run_refused "exit $st (want non-zero), stderr: '$msg' (want a message naming setuid)"
fi
case "$stdout" in
*ran*) fail setuid_run_not_started "the program ran: '$stdout'" ;;
*) pass setuid_run_not_started "program printed nothing ('$stdout')" ;;
esac
if [ -e "$out/run.prof" ]; then
	fail setuid_run_no_profile "$out/run.prof exists"
else
	pass setuid_run_no_profile "no run.prof"
fi

# Run directly with the environment asking for a profile.
stdout=$(CPROF_CPUPROFILE=$out/direct.prof "$bin/setuid_linked" 2>"$T/direct.err")
st=$?
msg=$(tr '\n' ' ' <"$T/direct.err")
if grep -q 'elevated privileges' "$T/direct.err"; then
	pass setuid_runtime_refusal "exit $st, stderr: $msg"
else
	fail setuid_runtime_refusal "exit $st, stderr: '$msg' (want the runtime's refusal)"
fi
case "$stdout" in
*ran*) pass setuid_direct_ran "the program itself still runs: '$stdout'" ;;
*) fail setuid_direct_ran "'$stdout' (want the program to run, unprofiled)" ;;
esac
left=$(files_in "$out")
if [ -z "$left" ]; then
	pass setuid_direct_no_profile "no file written in the (world-writable) profile directory"
else
	fail setuid_direct_no_profile "files written: $left"
fi

# The same binary without the setuid bit is profiled: the refusal above is
# about privilege, not about this program.
cp "$PROGS/setuid_linked" "$bin/plain_linked"
CPROF_CPUPROFILE=$out/plain.prof "$bin/plain_linked" >/dev/null 2>"$T/plain.err"
check_valid setuid_control_unprivileged "$out/plain.prof"
