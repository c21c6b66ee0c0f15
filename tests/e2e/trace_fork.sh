#!/usr/bin/env bash
# trace_fork.sh - fork while other threads trace: tests/progs/trace_fork_linked
# forks 100 times while 3 threads keep the recorder's lock busy (threads
# starting and ending, buffers handed over, new names interned). Every
# child must start a trace of its own, record, stop and exit 0 (a child
# whose inherited recorder is locked or broken hangs until its 10 s alarm
# or fails); each child's trace decodes and holds exactly its own events
# (1000 regions, its thread); the parent's trace decodes.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/f"
if timeout 300 "$PROGS/trace_fork_linked" 100 "$T/f" >"$T/out" 2>"$T/err"; then
	pass trace_fork_children "$(cat "$T/out")"
else
	fail trace_fork_children "$(cat "$T/out") $(head -c 300 "$T/err")"
fi

good=0 bad=""
for ((i = 0; i < 100; i++)); do
	f=$T/f/child.$i
	if "$CPROF" trace -format=text "$f" >"$T/c.txt" 2>/dev/null &&
		[ "$(grep -c ' region-begin task=0 name=child' "$T/c.txt")" = 1000 ] &&
		[ "$(grep -c ' thread-start ' "$T/c.txt")" -ge 1 ] &&
		! grep -q 'name=fill\|name=short' "$T/c.txt"; then
		good=$((good + 1))
	else
		bad="$bad $i"
	fi
done
if [ "$good" = 100 ]; then
	pass trace_fork_child_traces "100 child traces decode, each with its 1000 regions and its thread, none of the parent's"
else
	fail trace_fork_child_traces "$good of 100 good; bad:$(echo "$bad" | cut -c1-200)"
fi

if "$CPROF" trace -format=text "$T/f/parent.trace" >"$T/p.txt" 2>"$T/p.err" &&
	grep -q ' region-begin task=0 name=fill' "$T/p.txt" && ! grep -q 'name=child' "$T/p.txt"; then
	pass trace_fork_parent "$(tail -n 1 "$T/p.txt")"
else
	fail trace_fork_parent "$(head -c 300 "$T/p.err") $(tail -n 1 "$T/p.txt")"
fi
