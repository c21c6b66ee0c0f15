#!/usr/bin/env bash
# Compares `cprof pprof -top <opts>` with `go tool pprof -top <opts>` byte for
# byte (stdout) over the options that transform what a report shows: sample
# and frame filters (-focus -ignore -hide -show -show_from -prune_from),
# label filters (-tagfocus -tagignore with regexps, key=value and numeric
# ranges, -tagshow -taghide -tagroot -tagleaf), granularities (-functions
# -filefunctions -files -lines -addresses, -noinlines), -base / -diff_base /
# -normalize, -relative_percentages, -drop_negative, -mean, -divide_by,
# -unit and -output, on Go runtime profiles and cprof-written ones.
# Prints "PASS <name>" or "FAIL <name>: <first differing lines>".
set -u
top=${CPROF_TOP:?} build=${CPROF_BUILD:?}
cprof=${CPROF_BIN:-$build/bin/cprof}
if ! command -v go >/dev/null 2>&1; then
	echo "PASS pprof_filters_skipped_no_go"
	echo "INFO go is not installed: nothing to compare against"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home PPROF_TMPDIR=$tmp/pprof GOCACHE=$tmp/gocache GOFLAGS='' TZ=UTC
mkdir -p "$HOME" "$PPROF_TMPDIR"

compare() { # name args...
	local name=$1; shift
	"$cprof" pprof "$@" >"$tmp/ours" 2>"$tmp/ours.err"
	local rc1=$?
	go tool pprof "$@" >"$tmp/theirs" 2>"$tmp/theirs.err"
	local rc2=$?
	if [ $rc1 -ne 0 ] && [ $rc2 -ne 0 ]; then
		echo "PASS $name (both fail)"
	elif [ $rc1 -ne $rc2 ]; then
		echo "FAIL $name: exit status $rc1, go tool pprof $rc2: $(head -c 300 "$tmp/ours.err")"
	elif cmp -s "$tmp/ours" "$tmp/theirs"; then
		echo "PASS $name"
	else
		echo "FAIL $name: $(diff "$tmp/ours" "$tmp/theirs" | head -6 | tr '\n' '|')"
	fi
}

d=$top/tests/data c=$top/tests/data/conformance
cpu=$c/go-cpu.pb.gz heap=$c/go-heap.pb.gz
ccpu=$c/cprof-hotspots.pb.gz cinl=$c/cprof-inline.pb.gz csplit=$c/cprof-cpu-split.pb.gz

# Frame and sample filters, alone and together, on Go and cprof profiles.
for f in "$cpu" "$heap" "$ccpu" "$cinl" "$d/go-block.pb.gz"; do
	b=$(basename "$f" .pb.gz)
	compare "$b -focus=main" -top -focus=main "$f"
	compare "$b -ignore=runtime" -top -ignore=runtime "$f"
	compare "$b -hide=runtime" -top -hide=runtime "$f"
	compare "$b -show=main" -top -show='main|work' "$f"
	compare "$b -show_from=main" -top -show_from=main "$f"
	compare "$b -prune_from=runtime" -top -prune_from=runtime "$f"
	compare "$b -focus -ignore -hide" -top -focus='main\.' -ignore=nosuchfn -hide='^runtime\.' "$f"
	compare "$b -focus (file name)" -top -focus='\.go$|\.c$' "$f"
	compare "$b -focus nothing" -top -focus=no_such_function "$f"
	compare "$b -relative_percentages" -top -focus=main -relative_percentages "$f"
	for g in functions filefunctions files lines addresses; do
		compare "$b -$g" -top -$g "$f"
	done
	compare "$b -lines -noinlines" -top -lines -noinlines "$f"
	compare "$b -noinlines -cum" -top -noinlines -cum "$f"
	compare "$b -addresses -noinlines" -top -addresses -noinlines "$f"
	compare "$b -filefunctions -hide" -top -filefunctions -hide=runtime "$f"
done
compare "cprof-inline -show=inline" -top -show='inline|leaf' "$cinl"
compare "cprof-inline -hide inlined" -top -hide=inline -lines "$cinl"
compare "bad regexp" -top -focus='(' "$cpu"
# Go regexp syntax that POSIX lacks, translated (docs/pprof-differences.md).
for re in '(?i)SHA256' 'sha\d+' '[\w]+\.memmove' '(?:main|sort)\.\w+' 'runtime.*?' '\Qmain.\E' 'a{2,}'; do
	compare "-focus=$re" -top -focus="$re" "$cpu"
done
compare "-tagfocus=phase=(?i)SORT" -top -tagfocus='phase=(?i)SORT' "$cpu"

# Label filters and pseudo frames.
compare "cpu -tagfocus=phase=sort" -top -tagfocus=phase=sort "$cpu"
compare "cpu -tagfocus regexp" -top -tagfocus='phase:sort|worker:a' "$cpu"
compare "cpu -tagfocus two regexps" -top -tagfocus='phase,worker:a' "$cpu"
compare "cpu -tagignore=worker=a" -top -tagignore=worker=a "$cpu"
compare "cpu -tagfocus nothing" -top -tagfocus=phase=nosuch "$cpu"
compare "cpu -tagroot=phase" -top -tagroot=phase "$cpu"
compare "cpu -tagleaf=phase,worker" -top -tagleaf=phase,worker -cum "$cpu"
compare "cpu -tagroot two -focus" -top -tagroot=worker,phase -focus=sort "$cpu"
compare "cpu -tagshow -taghide" -top -tagshow=phase -taghide=worker "$cpu"
compare "heap -tagfocus=64kb" -top -tagfocus=64kb "$heap"
compare "heap -tagfocus=1kb:" -top -tagfocus=1kb: "$heap"
compare "heap -tagfocus=:128" -top -tagfocus=:128 "$heap"
compare "heap -tagfocus=bytes=100:1000" -top -tagfocus=bytes=100:1000 "$heap"
compare "heap -tagignore=8kb:1mb" -top -tagignore=8kb:1mb -sample_index=alloc_space "$heap"
compare "heap -tagleaf=bytes" -top -tagleaf=bytes -nodecount=8 "$heap"
compare "heap -tagroot=bytes -unit=kb" -top -tagroot=bytes -unit=kb -nodecount=8 "$heap"
compare "long filter truncated" -top \
	-focus='main|runtime|sort|hash|crypto|sha256|aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' "$cpu"

# Base profiles.
compare "cpu -base itself" -top -base "$cpu" "$cpu"
compare "cpu -diff_base itself" -top -diff_base "$cpu" "$cpu"
compare "split -base hotspots" -top -base "$ccpu" "$csplit"
compare "cpu-many -diff_base cpu" -top -diff_base "$d/go-cpu.pb.gz" "$d/go-cpu-many.pb.gz"
compare "cpu-many -diff_base cpu -drop_negative" -top -drop_negative -diff_base "$d/go-cpu.pb.gz" "$d/go-cpu-many.pb.gz"
compare "cpu-many -base cpu -normalize" -top -normalize -base "$d/go-cpu.pb.gz" "$d/go-cpu-many.pb.gz"
compare "heap-big -diff_base heap -normalize" -top -normalize -diff_base "$d/go-heap.pb.gz" "$d/go-heap-big.pb.gz"
compare "allocs -base heap -mean" -top -mean -base "$d/go-heap.pb.gz" "$d/go-heap-big.pb.gz"
compare "-base and -diff_base" -top -base "$cpu" -diff_base "$cpu" "$cpu"
compare "-normalize without base" -top -normalize "$cpu"
compare "-base incompatible" -top -base "$heap" "$cpu"

# Values: -mean, -divide_by, -unit with filters.
compare "block -mean -focus" -top -mean -focus=main "$d/go-block.pb.gz"
compare "cpu -divide_by=4 -lines" -top -divide_by=4 -lines "$cpu"
compare "heap -unit=mb -files" -top -unit=mb -files "$heap"
compare "heap -unit=auto -hide" -top -unit=auto -hide=runtime "$heap"
compare "two granularities" -top -lines -files "$cpu"
for f in "$cpu" "$heap" "$d/go-block.pb.gz"; do
	b=$(basename "$f" .pb.gz)
	compare "$b -divide_by=3" -top -divide_by=3 "$f"
	compare "$b -divide_by=0" -top -divide_by=0 "$f"
	compare "$b -mean -unit=auto" -top -mean -unit=auto "$f"
	compare "$b -mean -divide_by=7 -sample_index=0" -top -mean -divide_by=7 -sample_index=0 "$f"
	compare "$b -unit=us" -top -unit=us "$f"
	compare "$b -unit=kb" -top -unit=kb "$f"
done

# -output writes the same bytes to a file.
"$cprof" pprof -top -lines -output="$tmp/out.txt" "$cpu" >"$tmp/ours.stdout" 2>/dev/null
go tool pprof -top -lines "$cpu" >"$tmp/theirs" 2>/dev/null
if cmp -s "$tmp/out.txt" "$tmp/theirs" && [ ! -s "$tmp/ours.stdout" ]; then
	echo "PASS -output=FILE"
else
	echo "FAIL -output=FILE: file differs from go tool pprof's stdout, or stdout not empty"
fi
if "$cprof" pprof -top -output="$tmp/no/such/dir/x" "$cpu" >/dev/null 2>"$tmp/err"; then
	echo "FAIL -output to a missing directory: exit status 0"
else
	echo "PASS -output to a missing directory ($(tail -1 "$tmp/err" | head -c 80))"
fi
exit 0
