#!/usr/bin/env bash
# labels_cpu.sh - labels on CPU samples, with known truth.
#
# tests/progs/labels_linked runs five functions, each entirely under one
# label set (see the program): every sample of a function must carry its
# set, so a function's time under -tagfocus for its label equals its whole
# time, and is zero under the others; a thread inherits its creator's
# labels. The shares of the phase values are statistical: 30% load, 70%
# serve. The program also checks the API's return codes itself. Then the
# same under tcmalloc and jemalloc, and with cprof pprof's tag filters.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

UNIT_S=$(unit_seconds)
units=$(units_for 2.5)

# func_ms FILE FUNC [pprof flags...]: FUNC's cum time in ms (0 when absent).
func_ms() {
	local f=$1 fn=$2
	shift 2
	go tool pprof -top -cum -nodefraction=0 -nodecount=100000 -unit=ms "$@" "$f" 2>/dev/null |
		awk -v fn="$fn" '$5 ~ /%$/ && $6 == fn { v = $4; sub(/ms$/, "", v); print v + 0; found = 1; exit }
			END { if (!found) print 0 }'
}

# exact NAME FILE FUNC FILTER: FUNC's time under FILTER equals its total, and is not zero.
exact() {
	local all sub
	all=$(func_ms "$2" "$3")
	sub=$(func_ms "$2" "$3" "$4")
	if [ "$all" != 0 ] && [ "$all" = "$sub" ]; then
		pass "$1" "$3: ${sub}ms under $4 = ${all}ms in all"
	else
		fail "$1" "$3: ${sub}ms under $4, ${all}ms in all (want equal, not zero)"
	fi
}

# none NAME FILE FUNC FILTER: FUNC has no time under FILTER.
none() {
	local sub
	sub=$(func_ms "$2" "$3" "$4")
	if [ "$sub" = 0 ]; then
		pass "$1" "$3: nothing under $4"
	else
		fail "$1" "$3: ${sub}ms under $4 (want none)"
	fi
}

check_file() { # prefix file
	local p=$1 f=$2
	check_valid "${p}" "$f" || return
	exact "${p}_load" "$f" label_load -tagfocus=phase=load
	exact "${p}_serve" "$f" label_serve -tagfocus=phase=serve,tenant=acme
	exact "${p}_child_inherited" "$f" label_child -tagfocus=tenant=acme
	exact "${p}_worker" "$f" label_worker -tagfocus=worker=w1
	exact "${p}_worker_inherited" "$f" label_worker -tagfocus=phase=serve
	none "${p}_load_not_serve" "$f" label_load -tagfocus=phase=serve
	none "${p}_child_not_worker" "$f" label_child -tagfocus=worker=w1
	none "${p}_tagignore" "$f" label_child -tagignore=tenant=acme
	local share
	share=$(go tool pprof -tags "$f" 2>/dev/null | awk '/^ *phase:/ { p = 1; next } /^ *[a-z]+:/ { p = 0 }
		p && $3 == "load" { v = $2; gsub(/[():%]/, "", v); print v; exit }')
	in_range "${p}_load_share" "$share" 20 40 "phase=load share of labelled CPU, truth 30%"
}

out=$(CPROF_CPUPROFILE="$T/l.prof" "$PROGS/labels_linked" "$units" 2>"$T/err")
st=$?
while read -r verdict check rest; do
	case "$verdict" in
	ok) pass "labels_api_$check" "$rest" ;;
	bad) fail "labels_api_$check" "$rest" ;;
	esac
done <<<"$out"
in_range labels_exit "$st" 0 0 "exit status 0"
check_file labels_cpu "$T/l.prof"

# cprof pprof reads the same labels: -tagfocus and -tags.
got=$("$CPROF" pprof -top -cum -nodecount=1000 -tagfocus=worker=w1 "$T/l.prof" 2>/dev/null | grep -c 'label_\(load\|serve\|child\|none\)')
if [ "$got" = 0 ] && "$CPROF" pprof -top -tagfocus=worker=w1 "$T/l.prof" 2>/dev/null | grep -q label_worker; then
	pass labels_cprof_tagfocus "cprof pprof -tagfocus=worker=w1 keeps label_worker only"
else
	fail labels_cprof_tagfocus "cprof pprof -tagfocus=worker=w1: $got other label_ functions, or label_worker missing"
fi
if "$CPROF" pprof -tags "$T/l.prof" 2>/dev/null | grep -q 'acme'; then
	pass labels_cprof_tags "cprof pprof -tags lists tenant acme"
else
	fail labels_cprof_tags "cprof pprof -tags: no tenant acme"
fi

libdir=$(dirname "$(ldconfig -p 2>/dev/null | awk '/libc.so.6 .*x86-64/ { print $NF; exit }')")
for alloc in libtcmalloc.so.4 libjemalloc.so.2; do
	[ -e "$libdir/$alloc" ] || { info "$alloc not installed; skipped"; continue; }
	name=${alloc%%.so*}
	LD_PRELOAD="$libdir/$alloc" CPROF_CPUPROFILE="$T/$name.prof" "$PROGS/labels_linked" "$units" >"$T/out" 2>"$T/err"
	st=$?
	if [ $st -eq 0 ] && ! grep -q '^bad' "$T/out"; then
		pass "labels_${name}_run" "exit 0, API checks ok under $alloc"
	else
		fail "labels_${name}_run" "exit $st: $(grep '^bad' "$T/out" | head -3 | tr '\n' ' ') $(tail -n 3 "$T/err" | tr '\n' ' ')"
	fi
	check_file "labels_${name}" "$T/$name.prof"
done
