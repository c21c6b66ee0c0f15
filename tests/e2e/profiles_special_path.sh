#!/usr/bin/env bash
# profiles_special_path.sh - a profile asked to go to something that is not
# a regular file is written into it, never renamed over it: written through
# a temporary file and rename(2), `-cpuprofile=/dev/null` run as root
# replaced /dev/null with a regular file for the whole machine. Checked
# with FIFOs (the same rule, harmless when broken): after cprof run
# -cpuprofile=FIFO -threadsprofile=FIFO2 and CPROF_CONTINUOUS_STATUS=FIFO3,
# each path is still a FIFO, and what a reader got from the profile FIFOs is
# a valid profile. A FIFO nobody reads gets an error, not a hang.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

mkfifo "$T/cpu.fifo" "$T/threads.fifo"
cat "$T/cpu.fifo" >"$T/cpu.pb.gz" &
r1=$!
cat "$T/threads.fifo" >"$T/threads.pb.gz" &
r2=$!
"$CPROF" run -cpuprofile="$T/cpu.fifo" -threadsprofile="$T/threads.fifo" -- "$PROGS/cpu_split" 100 >/dev/null 2>"$T/err"
st=$?
# A reader still waiting (nothing was written) must not hang the test.
sleep 0.2
kill $r1 $r2 2>/dev/null
wait $r1 $r2 2>/dev/null
in_range special_run "$st" 0 0 "cprof run's exit status"
for k in cpu threads; do
	if [ -p "$T/$k.fifo" ]; then
		pass "special_${k}_kept" "$k.fifo is still a FIFO"
	else
		fail "special_${k}_kept" "$k.fifo was replaced: $(ls -l "$T/$k.fifo")"
	fi
	check_valid "special_$k" "$T/$k.pb.gz"
done
if [ -c /dev/null ]; then
	pass special_dev_null "/dev/null is a character device"
else
	fail special_dev_null "/dev/null is not a character device: $(ls -l /dev/null)"
fi

# The continuous collector's status file, rewritten every period.
mkfifo "$T/status.fifo"
cat "$T/status.fifo" >"$T/status.txt" &
r3=$!
CPROF_CONTINUOUS=dir:$T/store CPROF_CONTINUOUS_PERIOD=300ms CPROF_CONTINUOUS_STATUS=$T/status.fifo CPROF_SERVICE=s \
	LD_PRELOAD=$CPROF_BUILD/lib/libcprof.so "$PROGS/cpu_split" 200 >/dev/null 2>"$T/err3"
sleep 0.2
kill $r3 2>/dev/null
wait $r3 2>/dev/null
if [ -p "$T/status.fifo" ]; then
	pass special_status_kept "the status FIFO is still a FIFO; the reader got $(wc -c <"$T/status.txt") bytes"
else
	fail special_status_kept "status.fifo was replaced: $(ls -l "$T/status.fifo")"
fi

# A FIFO nobody reads: the write fails with a message, the program does not hang.
mkfifo "$T/noreader.fifo"
timeout 60 "$CPROF" run -cpuprofile="$T/noreader.fifo" -- "$PROGS/cpu_split" 50 >/dev/null 2>"$T/err4"
st=$?
in_range special_no_reader_exit "$st" 0 0 "exit status with nobody reading the FIFO (124: hung)"
if grep -q 'cannot write the CPU profile' "$T/err4" && [ -p "$T/noreader.fifo" ]; then
	pass special_no_reader_said "$(grep -m1 'cannot write' "$T/err4")"
else
	fail special_no_reader_said "stderr: $(head -c 300 "$T/err4")"
fi
