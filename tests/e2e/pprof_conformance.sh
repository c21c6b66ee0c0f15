#!/usr/bin/env bash
# The conformance matrix: every line of tests/data/conformance/matrix.txt is
# run with `cprof pprof` and with `go tool pprof` on the same profile(s), and
# their standard output is compared line for line (stderr is not compared:
# go tool pprof prints notices there). One line per (profile, command):
#   PASS <profile> <flags>
#   FAIL <profile> <flags>: <compact diff, "<" ours, ">" go tool pprof>
#   FAIL <profile> <flags> (not implemented yet): <cprof's error>
# Both failing (e.g. an invalid -sample_index) is a PASS; one failing is not.
# A -proto line compares `go tool pprof -top` of the two profiles written;
# a -svg line compares the SVGs without their <script> element (pprof
# embeds SVGPan.js, cprof a pan/zoom script of its own).
#
# Matrix lines: "PROFILES FLAGS...". PROFILES is "*" (every profile in
# tests/data/conformance) or comma-separated names without ".pb.gz". In
# FLAGS, @P is the profile's path and @O a fresh output file. gperf-*
# profiles (gperftools' format) get -symbolize=none first. Calls run two
# at a time (CPROF_CONFORMANCE_JOBS); results print in matrix order.
#
# Usage: tests/e2e/pprof_conformance.sh   (CPROF_TOP, CPROF_BUILD set by run.sh)
#        CPROF_CONFORMANCE_MATRIX=FILE    another matrix (e.g. while developing)
set -u
top=${CPROF_TOP:?} build=${CPROF_BUILD:?}
data=$top/tests/data/conformance
matrix=${CPROF_CONFORMANCE_MATRIX:-$data/matrix.txt}
if ! command -v go >/dev/null 2>&1; then
	echo "PASS pprof_conformance_skipped_no_go"
	echo "INFO go is not installed: nothing to compare against"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home PPROF_TMPDIR=$tmp/pprof GOCACHE=$tmp/gocache GOFLAGS='' TZ=UTC
mkdir -p "$HOME" "$PPROF_TMPDIR" "$tmp/jobs"
export CPROF_BIN=$build/bin/cprof CONF_TMP=$tmp
# go tool pprof's own binary: `go tool` adds ~40 ms per call to find it.
GOPPROF=$(go env GOTOOLDIR)/pprof
[ -x "$GOPPROF" ] || GOPPROF="go tool pprof"
export GOPPROF

profiles=()
for f in "$data"/*; do
	case "$f" in *.pb.gz | *.prof | *.heap) profiles+=("$(basename "$f")") ;; esac
done

# Expand the matrix into jobs: one file per job holding NAME, then the
# profile path, then one argument per line.
n=0
while IFS= read -r line || [ -n "$line" ]; do
	line=${line%%#*}
	read -r -a words <<<"$line"
	[ ${#words[@]} -eq 0 ] && continue
	sel=${words[0]}
	flags=("${words[@]:1}")
	if [ "$sel" = "*" ]; then
		names=("${profiles[@]}")
	else
		IFS=, read -r -a names <<<"$sel"
	fi
	for p in "${names[@]}"; do
		file=$p
		[ -f "$data/$file" ] || file=$p.pb.gz
		n=$((n + 1))
		{
			echo "${p%.pb.gz} ${flags[*]}"
			echo "$data/$file"
			# gperftools profiles hold addresses: symbolizing them would
			# compare the binaries of this machine, not the readers.
			case "$p" in gperf-*) echo -symbolize=none ;; esac
			printf '%s\n' "${flags[@]}"
		} >"$tmp/jobs/$n"
	done
done <"$matrix"

# shellcheck disable=SC2317 # run by xargs through export -f
run_job() { # job-number; writes $CONF_TMP/jobs/N.result
	local j=$1 d=$CONF_TMP/w$1
	mkdir -p "$d"
	local name path args=() a proto=0 svg=0 rc1 rc2
	{
		IFS= read -r name
		IFS= read -r path
		while IFS= read -r a; do
			[ "$a" = -proto ] && proto=1
			[ "$a" = -svg ] && svg=1
			args+=("$a")
		done
	} <"$CONF_TMP/jobs/$j"
	run() { # ours|theirs command...
		local who=$1; shift
		local out=$d/$who.out av=()
		for a in "${args[@]}"; do
			a=${a//@P/$path}
			av+=("${a//@O/$d/$who.pb}")
		done
		# shellcheck disable=SC2086 # GOPPROF may be "go tool pprof"
		if [ "$who" = ours ]; then "$CPROF_BIN" pprof "${av[@]}" "$path"; else $GOPPROF "${av[@]}" "$path"; fi \
			>"$out" 2>"$d/$who.err" </dev/null
	}
	if [ ! -f "$path" ]; then # a typo in the matrix must not pass as "both fail"
		echo "FAIL $name: no such profile: $path" >"$CONF_TMP/jobs/$j.result"
		return
	fi
	run ours; rc1=$?
	run theirs; rc2=$?
	if [ "$proto" = 1 ] && [ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ]; then
		# shellcheck disable=SC2086
		$GOPPROF -top "$d/ours.pb" >"$d/ours.out" 2>>"$d/ours.err" </dev/null || rc1=$?
		# shellcheck disable=SC2086
		$GOPPROF -top "$d/theirs.pb" >"$d/theirs.out" 2>>"$d/theirs.err" </dev/null || rc2=$?
	fi
	if [ "$svg" = 1 ]; then
		# pprof embeds SVGPan.js, cprof its own pan/zoom script
		# (docs/pprof-differences.md): compare the rest.
		for a in ours theirs; do
			awk '/<script/ { s = 1 } !s { print } /<\/script>/ { s = 0 }' "$d/$a.out" >"$d/$a.noscript"
			mv "$d/$a.noscript" "$d/$a.out"
		done
		name="$name (script element excluded)"
	fi
	{
		if [ "$rc1" -ne 0 ] && [ "$rc2" -ne 0 ]; then
			echo "PASS $name (both fail)"
		elif [ "$rc1" -ne 0 ] && grep -q 'unknown or unsupported flag\|not supported' "$d/ours.err"; then
			echo "FAIL $name (not implemented yet): $(head -1 "$d/ours.err" | sed 's/;.*//' | cut -c1-160)"
		elif [ "$rc1" -ne "$rc2" ]; then
			echo "FAIL $name: exit status $rc1, go tool pprof $rc2: ours: $(head -c 200 "$d/ours.err" | tr '\n' '|') go: $(head -c 200 "$d/theirs.err" | tr '\n' '|')"
		elif cmp -s "$d/ours.out" "$d/theirs.out"; then
			echo "PASS $name"
		else
			echo "FAIL $name: $(diff "$d/ours.out" "$d/theirs.out" | grep '^[<>]' | head -6 | cut -c1-140 | tr '\n' '|')"
		fi
	} >"$CONF_TMP/jobs/$j.result"
	rm -rf "$d"
}
export -f run_job

seq 1 "$n" | xargs -P "${CPROF_CONFORMANCE_JOBS:-2}" -I{} bash -c 'run_job {}'
for ((j = 1; j <= n; j++)); do
	if [ -f "$tmp/jobs/$j.result" ]; then
		cat "$tmp/jobs/$j.result"
	else
		echo "FAIL $(head -1 "$tmp/jobs/$j"): the job left no result"
	fi
done
exit 0
