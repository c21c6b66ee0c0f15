#!/usr/bin/env bash
# cprof pprof -disasm=RE against go tool pprof -disasm=RE on profiles cprof
# writes of tests/progs programs built without PIE (go tool pprof takes
# profile addresses as file addresses, so only non-PIE binaries give it
# anything to show). The instruction text differs by design (binutils'
# objdump, AT&T syntax, against Go's Plan 9 syntax), so both outputs have
# that column replaced by "<I>", and rows whose location annotation went to
# a line of its own (instructions of 40 characters or more) joined back:
# everything else - Total, ROUTINE headers, sums, every row's values and
# address, locations, order - is compared byte for byte. Then: a PIE binary
# (which go tool pprof cannot show) checked against -top's sums, binaries
# found through the leading argument and PPROF_BINARY_PATH, the interactive
# shell, and the errors for a missing binary and a missing objdump.
set -u
# shellcheck source=tests/e2e/lib.sh
. "$CPROF_TOP/tests/e2e/lib.sh"
top=$CPROF_TOP
if ! command -v go >/dev/null 2>&1 || ! command -v objdump >/dev/null 2>&1; then
	echo "PASS pprof_disasm_skipped_no_go_or_objdump"
	info "go or objdump is not installed: nothing to compare against"
	exit 0
fi
export GOCACHE=$T/gocache GOFLAGS=
mkdir -p "$T/bin" "$T/empty" "$T/moved"

# The instruction column replaced by <I>; a location line of its own
# ("%74s;loc") joined to the row that follows it, as short rows carry it.
cat >"$T/norm.awk" <<'EOF'
function is_inst(l) {
	return length(l) >= 34 && substr(l, 33, 2) == ": " && substr(l, 11, 1) == " " &&
	       substr(l, 22, 1) == " " && substr(l, 23, 10) ~ /^ *[0-9a-f]+$/
}
BEGIN { sp = sprintf("%74s", "") }
substr($0, 1, 74) == sp && substr($0, 75, 1) == ";" { pending = substr($0, 75); next }
is_inst($0) {
	prefix = substr($0, 1, 34)
	if (pending != "") { print prefix "<I>" pending; pending = ""; next }
	if (length($0) > 74 && substr($0, 75, 1) == ";") { print prefix "<I>" substr($0, 75); next }
	print prefix "<I>"; next
}
{ print }
EOF

compare() { # name args...
	local name=$1; shift
	"$CPROF" pprof "$@" >"$T/ours" 2>"$T/ours.err"
	local rc1=$?
	go tool pprof "$@" >"$T/theirs" 2>"$T/theirs.err"
	local rc2=$?
	awk -f "$T/norm.awk" "$T/ours" >"$T/ours.n"
	awk -f "$T/norm.awk" "$T/theirs" >"$T/theirs.n"
	if [ $rc1 -ne 0 ] && [ $rc2 -ne 0 ]; then
		if [ -s "$T/ours" ]; then
			echo "FAIL $name: failed (as go tool pprof) but printed a report"
		else
			echo "PASS $name (both fail)"
		fi
	elif [ $rc1 -ne $rc2 ]; then
		echo "FAIL $name: exit status $rc1, go tool pprof $rc2: $(head -c 300 "$T/ours.err")"
	elif ! grep -q '^ROUTINE' "$T/ours.n" || ! grep -q '<I>' "$T/ours.n"; then
		echo "FAIL $name: no ROUTINE or instruction rows: $(head -c 300 "$T/ours")"
	elif [ "$(grep -c '<I>' "$T/ours.n")" -ne "$(grep -cE '^.{32}: ' "$T/ours")" ]; then
		echo "FAIL $name: normalization lost rows"
	elif grep -qE '^.{32}: (MOV|CALL|XOR)' "$T/ours"; then
		echo "FAIL $name: Plan 9 syntax in our instruction column"
	elif cmp -s "$T/ours.n" "$T/theirs.n"; then
		echo "PASS $name ($(grep -c '<I>' "$T/ours.n") instructions)"
	else
		echo "FAIL $name: $(diff "$T/ours.n" "$T/theirs.n" | head -6 | tr '\n' '|')"
	fi
}

build_nopie() { # prog
	cc -O2 -g -fomit-frame-pointer -no-pie -std=gnu11 -D_GNU_SOURCE -I"$top/include" \
		-o "$T/bin/$1" "$top/tests/progs/$1.c" -lpthread -ldl -lm 2>"$T/cc.err"
}

# cpu_split: work_unit and three callers; inline_work: inlined frames (-disasm forces -noinlines).
for prog in cpu_split inline_work; do
	if ! build_nopie $prog; then
		echo "FAIL pprof_disasm $prog: cc -no-pie failed: $(head -c 300 "$T/cc.err")"
		continue
	fi
	p=$T/$prog.prof
	if ! "$CPROF" run -cpuprofile="$p" -- "$T/bin/$prog" 300 >/dev/null 2>"$T/run.err"; then
		echo "FAIL pprof_disasm $prog: cprof run failed: $(head -c 300 "$T/run.err")"
		continue
	fi
	compare "$prog -disasm=work" -disasm=work "$p"
	compare "$prog -disasm=." -disasm=. "$p"
	compare "$prog -disasm=. -mean -unit=s" -disasm=. -mean -unit=s "$p"
	compare "$prog -disasm=. -sample_index=0" -disasm=. -sample_index=0 "$p"
	compare "$prog -disasm=main -focus=work -divide_by=3" -disasm=main -focus=work -divide_by=3 "$p"
	# pprof opens only binaries with a node whose full name (address, function, file:line) matches
	compare "$prog -disasm=^main\$ (no node name matches)" -disasm='^main$' "$p"
	compare "$prog -disasm=. -ignore=sixty -relative_percentages" -disasm=. -ignore=sixty \
		-relative_percentages "$p"
	compare "$prog -disasm=nosuch (no match)" -disasm=nosuch "$p"
	compare "$prog -disasm=sink (data symbol, no samples)" -disasm=sink "$p"
	compare "$prog -disasm=0x401000 (an address)" -disasm=0x401000 "$p"
done

p=$T/cpu_split.prof
if [ -f "$p" ]; then
	# The leading binary argument and PPROF_BINARY_PATH (by build id) find a moved binary.
	bid=$(go tool pprof -raw "$p" 2>/dev/null | awk '/^Mappings/ { m = 1; next } m && $3 ~ /cpu_split$/ { print $4; exit }')
	mkdir -p "$T/moved/$bid"
	mv "$T/bin/cpu_split" "$T/moved/$bid/cpu_split"
	compare "-disasm=func binary argument" -disasm=func "$T/moved/$bid/cpu_split" "$p"
	# go tool pprof's objdump-less tool has no build ids, so it never takes a file by build id: ours must print what it printed for the argument.
	cp "$T/ours" "$T/byarg"
	PPROF_BINARY_PATH=$T/moved "$CPROF" pprof -disasm=func "$p" >"$T/ours" 2>"$T/ours.err"
	if grep -q '^ROUTINE' "$T/ours" && cmp -s "$T/ours" "$T/byarg"; then
		pass "-disasm=func PPROF_BINARY_PATH" "as with the binary argument"
	else
		echo "FAIL -disasm=func PPROF_BINARY_PATH: $(diff "$T/ours" "$T/byarg" | head -6 | tr '\n' '|') $(head -c 200 "$T/ours.err")"
	fi

	# A binary nowhere to be found: a clear error naming it, nothing on stdout.
	if "$CPROF" pprof -disasm=work_unit "$p" >"$T/out" 2>"$T/err"; then
		echo "FAIL -disasm missing binary: exit status 0"
	elif [ -s "$T/out" ] || ! grep -q "cprof: pprof: .*$T/bin/cpu_split" "$T/err"; then
		echo "FAIL -disasm missing binary: $(head -c 300 "$T/err")"
	else
		pass "-disasm missing binary" "$(head -c 200 "$T/err")"
	fi
	# No objdump on PATH: a clear error, nothing on stdout.
	if PATH=$T/empty "$CPROF" pprof -disasm=work_unit "$T/moved/$bid/cpu_split" "$p" \
		>"$T/out" 2>"$T/err"; then
		echo "FAIL -disasm without objdump: exit status 0"
	elif [ -s "$T/out" ] || ! grep -q "cprof: pprof: .*objdump" "$T/err"; then
		echo "FAIL -disasm without objdump: $(head -c 300 "$T/err")"
	else
		pass "-disasm without objdump" "$(head -c 200 "$T/err")"
	fi
	# The interactive shell's disasm command, as go tool pprof's.
	printf 'disasm work_unit\nquit\n' >"$T/cmds"
	"$CPROF" pprof "$T/moved/$bid/cpu_split" "$p" <"$T/cmds" 2>/dev/null |
		awk -f "$T/norm.awk" >"$T/ours.n"
	go tool pprof "$T/moved/$bid/cpu_split" "$p" <"$T/cmds" 2>/dev/null |
		awk -f "$T/norm.awk" >"$T/theirs.n"
	if grep -q '^ROUTINE' "$T/ours.n" && cmp -s "$T/ours.n" "$T/theirs.n"; then
		pass "interactive disasm" "as go tool pprof"
	else
		echo "FAIL interactive disasm: $(diff "$T/ours.n" "$T/theirs.n" | head -6 | tr '\n' '|')"
	fi
fi

# A PIE binary: go tool pprof finds nothing (it does not relocate), cprof
# maps the addresses back. Its sums must be -top's, and the rows add up.
pp=$T/pie.prof
if "$CPROF" run -cpuprofile="$pp" -- "$PROGS/cpu_split" 300 >/dev/null 2>"$T/run.err"; then
	"$CPROF" pprof -disasm=work_unit "$pp" >"$T/pie" 2>"$T/pie.err"
	want=$(go tool pprof -top -nodecount=100 "$pp" 2>/dev/null |
		awk '$6 == "work_unit" { printf "%10s %10s (flat, cum)", $1, $4 }')
	head2=$(sed -n 3p "$T/pie" | cut -c1-33)
	# Row values in ms (the profile's unit at this size), summed.
	rows=$(awk 'substr($0, 33, 2) == ": " && $1 != "." { v = $1; sub(/ms$/, "", v); s += v } END { print s + 0 }' "$T/pie")
	hflat=$(sed -n 3p "$T/pie" | awk '{ v = $1; sub(/ms$/, "", v); print v + 0 }')
	if [ -z "$want" ] || [ "$head2" != "$want" ]; then
		echo "FAIL -disasm PIE: header '$head2', -top says '$want': $(head -c 300 "$T/pie.err")"
	elif [ "$rows" != "$hflat" ]; then
		echo "FAIL -disasm PIE: rows sum to ${rows}ms, header says ${hflat}ms"
	elif ! grep -qE '^.{32}: .*%r' "$T/pie"; then
		echo "FAIL -disasm PIE: no AT&T instructions"
	else
		pass "-disasm PIE" "$want; rows sum to ${rows}ms"
	fi
else
	echo "FAIL pprof_disasm PIE: cprof run failed: $(head -c 300 "$T/run.err")"
fi
