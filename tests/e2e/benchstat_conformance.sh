#!/usr/bin/env bash
# `cprof benchstat` against the reference benchstat's own test data: every
# case of tests/data/benchstat/cases.tsv runs in that folder, and its stdout,
# stderr and exit status (0) must equal the reference's byte for byte. One
# PASS or FAIL line per case, with a compact diff on failure. Then the
# command line's errors: a missing file, bad flags, a bad filter or
# projection, no inputs; and "-" (stdin) and label=path inputs.
set -u
. "$(dirname "$0")/lib.sh"
data=$CPROF_TOP/tests/data/benchstat

while IFS=$'\t' read -r name args; do
	case "$name" in '#'* | '') continue ;; esac
	eval "set -- $args"
	(cd "$data" && "$CPROF" benchstat "$@") >"$T/out" 2>"$T/err"
	rc=$?
	want_err=/dev/null
	[ -f "$data/$name.stderr" ] && want_err=$data/$name.stderr
	if [ "$rc" -ne 0 ]; then
		fail "benchstat_$name" "exit status $rc: $(head -c 300 "$T/err")"
	elif ! cmp -s "$T/out" "$data/$name.stdout"; then
		fail "benchstat_$name" "stdout differs: $(diff "$data/$name.stdout" "$T/out" | head -8 | tr '\n' '|')"
	elif ! cmp -s "$T/err" "$want_err"; then
		fail "benchstat_$name" "stderr differs: $(diff "$want_err" "$T/err" | head -8 | tr '\n' '|')"
	else
		pass "benchstat_$name" "$(wc -l <"$T/out") lines identical"
	fi
done <"$data/cases.tsv"

# expect NAME WANT_STATUS STDERR_PATTERN ARGS...: status and a line of stderr.
expect() {
	local name=$1 want=$2 pat=$3 rc
	shift 3
	(cd "$data" && "$CPROF" benchstat "$@") >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -eq "$want" ] && grep -q -- "$pat" "$T/err"; then
		pass "benchstat_$name" "status $rc, $(grep -m1 -- "$pat" "$T/err")"
	else
		fail "benchstat_$name" "status $rc (want $want), stderr: $(head -c 300 "$T/err")"
	fi
}
expect err_missing_file 1 '^cprof: benchstat: nosuch.txt: No such file or directory$' old.txt nosuch.txt
expect err_unknown_flag 2 'flag provided but not defined: -bogus' -bogus old.txt
expect err_flag_value 2 'invalid value "x" for flag -alpha' -alpha x old.txt
expect err_alpha_range 1 '^cprof: benchstat: -alpha must be in range \[0, 1\]$' -alpha 2 old.txt
expect err_format 1 '^cprof: benchstat: -format must be text or csv$' -format html old.txt
expect err_filter 1 '^cprof: benchstat: parsing -filter: syntax error: missing close' -filter '.name:/abc' old.txt
expect err_projection 1 'parsing -row: syntax error: unknown order "bogus"' -row '.name@bogus' old.txt
expect err_unit_projection 1 'parsing -col: syntax error: .unit is only allowed in filters' -col .unit old.txt
expect err_no_inputs 2 'Usage: cprof benchstat' -alpha 0.1

# "-" reads standard input; label=path names the column.
(cd "$data" && "$CPROF" benchstat O=- N=new.txt <old.txt) >"$T/out" 2>"$T/err"
if cmp -s "$T/out" "$data/doc_labels.stdout" && [ ! -s "$T/err" ]; then
	pass benchstat_stdin "O=- from stdin gives the labelled table"
else
	fail benchstat_stdin "$(diff "$data/doc_labels.stdout" "$T/out" | head -5 | tr '\n' '|') $(head -c 200 "$T/err")"
fi

# Malformed result lines are reported as file:line: msg and skipped.
printf 'BenchmarkA 10 x ns/op\nBenchmarkB 10 5\nBenchmarkC 10 5 ns/op\nBenchmarkD abc 1 ns/op\n' >"$T/bad.txt"
"$CPROF" benchstat "$T/bad.txt" >"$T/out" 2>"$T/err"
want="$T/bad.txt:1: parsing measurement: invalid syntax
$T/bad.txt:2: missing units
$T/bad.txt:4: parsing iteration count: invalid syntax"
if [ "$(cat "$T/err")" = "$want" ] && grep -q '^C  *5.000n ± ∞ ¹$' "$T/out"; then
	pass benchstat_syntax_errors "three errors reported, the good line kept"
else
	fail benchstat_syntax_errors "stderr: $(tr '\n' '|' <"$T/err") stdout: $(tr '\n' '|' <"$T/out")"
fi

# The same path twice becomes two columns, path#0 and path#1, as in the reference.
(cd "$data" && "$CPROF" benchstat old.txt old.txt) >"$T/out" 2>"$T/err"
if grep -q '│  old.txt#0  │             old.txt#1              │' "$T/out" &&
	grep -q '^Encode/format=json-48   1.718µ ± 1%   1.718µ ± 1%       ~ (p=1.000 n=10)$' "$T/out"; then
	pass benchstat_same_path_twice "columns old.txt#0 and old.txt#1, p=1.000"
else
	fail benchstat_same_path_twice "$(head -6 "$T/out" | tr '\n' '|')"
fi

# CSV warnings name their cell by row across several tables (header lines and
# the blank lines between tables count, as in the reference's writer).
(cd "$data" && "$CPROF" benchstat -format csv -row .name crc-old.txt crc-new.txt) >"$T/out" 2>"$T/err"
want='B7: benchmarks vary in .fullname
B12: benchmarks vary in .fullname
B18: benchmarks vary in .fullname
B23: benchmarks vary in .fullname'
if [ "$(cat "$T/err")" = "$want" ] && [ "$(sed -n 7p "$T/out")" = "CRC32,2.0350000000000002e-07,22%" ] &&
	[ "$(sed -n 15p "$T/out")" = "note: hw acceleration enabled" ]; then
	pass benchstat_csv_rows "warnings at B7 B12 B18 B23 of four tables"
else
	fail benchstat_csv_rows "stderr: $(tr '\n' '|' <"$T/err") line 7: $(sed -n 7p "$T/out")"
fi
