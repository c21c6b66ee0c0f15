#!/usr/bin/env bash
# Bad input, read by cprof pprof and by go tool pprof side by side: both
# must accept the same files and reject the same files. The corpus is
# tests/e2e/pprof_reject_gen.py's (fixed seeds, about 330 files): random
# text and bytes, a real profile cut at many offsets or with one bit
# flipped, out-of-range string indices, zero, duplicate and dangling ids,
# value counts, wrong wire types, lengths past the end, broken gzip,
# broken legacy text, and odd but valid profiles.
#
# Per file, with -raw -symbolize=none:
#   - both accept: the same -raw output;
#   - both reject: cprof exits 1 with one "cprof: pprof: FILE: why" line
#     when go tool pprof names the file, never crashes, prints nothing on
#     stdout;
#   - they disagree: a FAIL, unless it is one of the differences that
#     docs/pprof-differences.md ("Reading profile.proto") lists.
# One PASS or FAIL line per category, with its counts.
set -u
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
if ! command -v go >/dev/null 2>&1; then
	pass reject_skipped "go is not installed: nothing to compare against"
	exit 0
fi
export GOCACHE=$T/gocache GOFLAGS= GO111MODULE=off
C=$T/cases
if ! python3 "$CPROF_TOP/tests/e2e/pprof_reject_gen.py" "$C" "$CPROF_TOP/tests/data" 2>"$T/gen.err"; then
	fail reject_corpus "the generator failed: $(head -c 300 "$T/gen.err")"
	exit 0
fi

# intended_reject ERRFILE: cprof's reason is one pprof-differences.md lists
# for profile.proto that go tool pprof 1.19 accepts.
intended_reject() {
	grep -Eq 'invalid field number|varint overflows 64 bits|Line field 3 has wire type|Profile field 15 has wire type|doc_url: string index' "$1"
}

# is_folded FILE: collapsed stacks as docs/USAGE.md describes them (text
# lines "frames value", blank lines, # comments; at least one stack).
is_folded() {
	LC_ALL=C grep -Eq '^[^#].*[^ ] +-?[0-9]+$' "$1" &&
		! LC_ALL=C grep -Evq '^(#.*|[[:space:]]*|.*[^ ] +-?[0-9]+)$' "$1" &&
		[ "$(tr -d '\000' <"$1" | wc -c)" -eq "$(wc -c <"$1")" ]
}

# has_nul FILE
has_nul() {
	[ "$(tr -d '\000' <"$1" | wc -c)" -ne "$(wc -c <"$1")" ]
}

total=0
cd "$C" || exit 1
for cat in *; do
	n=0 acc=0 rej=0 intended=0 bad=""
	for f in "$cat"/*; do
		n=$((n + 1))
		go tool pprof -raw -symbolize=none "$f" >"$T/go.out" 2>"$T/go.err"
		g=$?
		"$CPROF" pprof -raw -symbolize=none "$f" >"$T/c.out" 2>"$T/c.err"
		c=$?
		why=""
		if [ $c -ge 2 ]; then
			why="cprof exit status $c: $(head -c 200 "$T/c.err" | tr '\n' ' ')"
		elif [ $g -eq 0 ] && [ $c -eq 0 ]; then
			if cmp -s "$T/go.out" "$T/c.out"; then
				acc=$((acc + 1))
			elif has_nul "$T/go.out"; then
				intended=$((intended + 1)) # strings are cut at a NUL byte
			else
				why="-raw differs: $(diff "$T/go.out" "$T/c.out" | head -4 | tr '\n' '|')"
			fi
		elif [ $g -ne 0 ] && [ $c -ne 0 ]; then
			if [ -s "$T/c.out" ]; then
				why="rejected, but wrote on stdout"
			elif ! head -1 "$T/c.err" | grep -q '^cprof: '; then
				why="rejected without a cprof: message: $(head -c 200 "$T/c.err" | tr '\n' ' ')"
			elif grep -q "^$f: " "$T/go.err" && ! grep -q "^cprof: pprof: $f: ." "$T/c.err"; then
				why="the message does not name the file: $(head -c 200 "$T/c.err" | tr '\n' ' ')"
			else
				rej=$((rej + 1))
			fi
		elif [ $g -eq 0 ]; then
			if intended_reject "$T/c.err"; then
				intended=$((intended + 1))
			else
				why="go tool pprof accepts, cprof rejects: $(head -c 200 "$T/c.err" | tr '\n' ' ')"
			fi
		else
			if is_folded "$f"; then
				intended=$((intended + 1))
			else
				why="cprof accepts, go tool pprof rejects: $(head -c 200 "$T/go.err" | tr '\n' ' ')"
			fi
		fi
		[ -n "$why" ] && bad="$bad $f ($why);"
	done
	total=$((total + n))
	if [ -n "$bad" ]; then
		fail "reject_$cat" "$n files, $acc both accept, $rej both reject, $intended listed differences; disagree:$(echo "$bad" | head -c 1500)"
	else
		pass "reject_$cat" "$n files: $acc both accept, $rej both reject, $intended listed differences"
	fi
done
if [ "$total" -ge 250 ]; then
	pass reject_corpus "$total files read by both tools"
else
	fail reject_corpus "only $total files generated (want 250 or more)"
fi
