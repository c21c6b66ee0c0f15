#!/usr/bin/env bash
# trace_names.sh - region names cached by address on the fast path:
# tests/progs/trace_names_linked names regions with heap strings of
# exactly their size (1 to 15 bytes, each used 3 times), a buffer
# rewritten between uses and a name too long for the cache. The trace
# must name each region by its content, in order; and under valgrind the
# fast path must read nothing past a name's end (no error).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

PROG=$PROGS/trace_names_linked
want=""
for ((len = 1; len <= 15; len++)); do
	s=$(printf 'abcdefghijklmno' | cut -c1-$len)
	want="$want $s $s $s"
done
want="$want first first other x a-name-of-20-bytes!! a-name-of-20-bytes!!"

names() { # trace file
	"$CPROF" trace -format=text "$1" | awk '$3 == "region-begin" { sub(/^name=/, "", $5); printf " %s", $5 }'
}

if "$PROG" "$T/n.trace" 2>"$T/n.err"; then
	got=$(names "$T/n.trace")
	if [ "$got" = "$want" ]; then
		pass trace_names "51 regions named by their content, in order"
	else
		fail trace_names "got:$got"
	fi
else
	fail trace_names "$(head -c 300 "$T/n.err")"
fi

if command -v valgrind >/dev/null; then
	if valgrind -q --error-exitcode=9 "$PROG" "$T/v.trace" 2>"$T/v.err"; then
		if [ "$(names "$T/v.trace")" = "$want" ]; then
			pass trace_names_valgrind "no valgrind error, the same 51 names"
		else
			fail trace_names_valgrind "names differ under valgrind"
		fi
	else
		fail trace_names_valgrind "$(grep -m 3 -E 'Invalid|uninitialised|==' "$T/v.err" | head -c 400)"
	fi
else
	info "valgrind not installed: trace_names_valgrind not run"
fi
