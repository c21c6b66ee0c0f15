#!/usr/bin/env bash
# fork_write.sh - a fork taken while another thread writes a profile leaves
# the child able to write its own: tests/progs/fork_write_linked writes the
# heap profile to /dev/null in a loop on one thread while the main thread
# forks 200 times; every child writes its heap profile and exits. Then
# again with continuous profiling running beside the writing thread (every
# 100 ms), each child writing a CPU profile of its own. A child
# that does not exit within 10 s (a lock of the parent's writer still held in
# the child) is killed and reported by the program; the whole run is bounded
# by timeout. Every child's profile is read by go tool pprof.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

n=200
for mode in heap cpu; do
	d=$T/$mode
	mkdir -p "$d"
	out=$(timeout -s KILL 120 "$PROGS/fork_write_linked" "$d" $n $mode 2>"$d/err")
	st=$?
	if [ "$st" -eq 0 ] && [ "$(echo "$out" | grep -c "^forks=$n hung=0 failed=0 ")" -eq 1 ]; then
		pass fork_write_${mode}_children "$n children forked beside a writing thread all wrote and exited ($out)"
	else
		fail fork_write_${mode}_children "exit $st, '$out': $(head -n 3 "$d/err" | tr '\n' ' ')"
	fi
	got=$(find "$d" -maxdepth 1 -name 'child.*.prof' -size +0 | wc -l)
	if [ "$got" -eq "$n" ]; then
		pass fork_write_${mode}_files "$got of $n children's profiles written"
	else
		fail fork_write_${mode}_files "$got of $n children's profiles written"
	fi
	# Every file, read at once: go tool pprof fails on the first it cannot parse.
	if go tool pprof -raw "$d"/child.*.prof >"$d/raw.out" 2>"$d/raw.err" && [ ! -s "$d/raw.err" ]; then
		pass fork_write_${mode}_valid "go tool pprof -raw over all $got profiles: exit 0, no stderr"
	else
		fail fork_write_${mode}_valid "go tool pprof -raw: $(head -c 300 "$d/raw.err" | tr '\n' ' ')"
	fi
	check_valid fork_write_${mode}_one "$d/child.$((n - 1)).prof"
done
# The parent's continuous CPU profiles, written while it forked.
last=$(find "$T/cpu/cont" -name '*.cpu.*.pb.gz' 2>/dev/null | sort | tail -n 1)
check_valid fork_write_continuous "${last:-$T/cpu/cont/none}"
