#!/usr/bin/env bash
# Compares `cprof pprof -top` with `go tool pprof -top` byte for byte (stdout
# only: pprof prints symbolization notes on stderr) for every profile under
# tests/data and the synthetic ones tests/e2e/pprof_top_gen.c writes, with
# several flag sets, and for merges of several files.
# Prints "PASS <name>" or "FAIL <name>: <first differing lines>" per comparison.
set -u
top=${CPROF_TOP:?} build=${CPROF_BUILD:?}
cprof=$build/bin/cprof
if ! command -v go >/dev/null 2>&1; then
	echo "PASS pprof_top_skipped_no_go"
	echo "INFO go is not installed: nothing to compare against"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# go tool pprof must not write into the user's home.
export HOME=$tmp/home PPROF_TMPDIR=$tmp/pprof GOCACHE=$tmp/gocache GOFLAGS=
mkdir -p "$HOME" "$PPROF_TMPDIR" "$tmp/syn"

if ! cc -std=gnu11 -O1 -D_GNU_SOURCE -I"$top/src" -I"$top/tests/unit" -o "$tmp/gen" \
	"$top/tests/e2e/pprof_top_gen.c" "$top"/src/proto/*.c "$top"/src/common/*.c -lz \
	2>"$tmp/gen.err" || ! "$tmp/gen" "$tmp/syn"; then
	echo "FAIL pprof_top_gen: could not build or run the generator: $(head -3 "$tmp/gen.err")"
fi

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

for f in "$top"/tests/data/*.pb.gz "$tmp"/syn/*.pb.gz; do
	[ -f "$f" ] || continue
	b=$(basename "$f" .pb.gz)
	compare "$b -top" -top "$f"
	compare "$b -top -cum" -top -cum "$f"
	compare "$b -top -nodecount=3" -top -nodecount=3 "$f"
	compare "$b -text -sample_index=0" -text -sample_index=0 "$f"
	compare "$b -top -mean" -top -mean "$f"
	compare "$b -top -unit=auto -drop_negative" -top -unit=auto -drop_negative "$f"
	compare "$b -top -trim=false -compact_labels" -top -trim=false -compact_labels "$f"
done
d=$top/tests/data s=$tmp/syn
compare "heap -alloc_space" -top -alloc_space "$d/go-heap.pb.gz"
compare "heap -inuse_objects -cum" -top -inuse_objects -cum "$d/go-heap.pb.gz"
compare "block -mean_delay" -top -mean_delay "$d/go-block.pb.gz"
compare "block -contentions" -top -contentions "$d/go-block.pb.gz"
compare "cpu -sample_index=nosuch" -top -sample_index=nosuch "$d/go-cpu.pb.gz"
compare "merge cpu+cpu-many" -top "$d/go-cpu.pb.gz" "$d/go-cpu-many.pb.gz"
compare "merge heap+heap-big -cum" -top -cum "$d/go-heap.pb.gz" "$d/go-heap-big.pb.gz"
compare "merge inline+inline2" -top "$s/syn-inline.pb.gz" "$s/syn-inline2.pb.gz"
compare "merge empty+cpu" -top "$s/syn-empty.pb.gz" "$d/go-cpu.pb.gz"
compare "merge negative x3" -top "$s/syn-negative.pb.gz" "$s/syn-negative.pb.gz" "$s/syn-negative.pb.gz"
compare "merge cpu+heap (incompatible)" -top "$d/go-cpu.pb.gz" "$d/go-heap.pb.gz"
# -delay (ours: a name for -sample_index=delay) reads as go tool pprof's -total_delay.
"$cprof" pprof -top -delay "$d/go-block.pb.gz" >"$tmp/ours" 2>&1
go tool pprof -top -total_delay "$d/go-block.pb.gz" >"$tmp/theirs" 2>/dev/null
if cmp -s "$tmp/ours" "$tmp/theirs"; then echo "PASS block -delay = -total_delay"; else
	echo "FAIL block -delay: $(diff "$tmp/ours" "$tmp/theirs" | head -4 | tr '\n' '|')"; fi
# Uncompressed profile.proto reads the same as gzipped.
gunzip -c "$d/go-cpu.pb.gz" >"$tmp/go-cpu.pb"
compare "uncompressed cpu -top" -top "$tmp/go-cpu.pb"
# A profile our own runtime wrote: symbolized names, inlined frames, comments.
if "$cprof" run -q -cpuprofile="$tmp/ours.prof" -- "$build/examples/hotspots" >/dev/null 2>&1; then
	compare "cprof runtime profile -top" -top "$tmp/ours.prof"
	compare "cprof runtime profile -top -cum -nodecount=5" -top -cum -nodecount=5 "$tmp/ours.prof"
else
	echo "FAIL cprof_runtime_profile: cprof run wrote no profile"
fi
for tz in UTC America/Los_Angeles Asia/Kolkata; do
	TZ=$tz compare "TZ=$tz time header" -top "$s/syn-inline.pb.gz"
done
exit 0
