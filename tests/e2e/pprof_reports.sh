#!/usr/bin/env bash
# Compares cprof pprof's text reports (-traces, -tree, -peek, -raw, -tags,
# -comments, -list) with go tool pprof's byte for byte (stdout; both failing
# counts as agreement) over tests/data/*.pb.gz, the synthetic profiles that
# tests/e2e/pprof_reports_gen.c writes, and a profile cprof writes of
# tests/progs/inline_work (inlined frames, source in the tree for -list).
# Prints "PASS <name>" or "FAIL <name>: <first differing lines>".
set -u
# shellcheck source=tests/e2e/lib.sh
. "$CPROF_TOP/tests/e2e/lib.sh"
top=$CPROF_TOP
if ! command -v go >/dev/null 2>&1; then
	echo "PASS pprof_reports_skipped_no_go"
	info "go is not installed: nothing to compare against"
	exit 0
fi
export GOCACHE=$T/gocache GOFLAGS=
mkdir -p "$T/syn" "$T/bin"

if ! cc -std=gnu11 -O1 -D_GNU_SOURCE -I"$top/src" -o "$T/gen" "$top/tests/e2e/pprof_reports_gen.c" \
	"$top"/src/proto/*.c "$top"/src/common/*.c -lz 2>"$T/gen.err" || ! "$T/gen" "$T/syn"; then
	echo "FAIL pprof_reports_gen: could not build or run the generator: $(head -3 "$T/gen.err")"
fi

compare() { # name args...
	local name=$1; shift
	"$CPROF" pprof "$@" >"$T/ours" 2>"$T/ours.err"
	local rc1=$?
	go tool pprof "$@" >"$T/theirs" 2>"$T/theirs.err"
	local rc2=$?
	if [ $rc1 -ne 0 ] && [ $rc2 -ne 0 ]; then
		if [ -s "$T/ours" ]; then
			echo "FAIL $name: failed (as go tool pprof) but printed a report"
		else
			echo "PASS $name (both fail)"
		fi
	elif [ $rc1 -ne $rc2 ]; then
		echo "FAIL $name: exit status $rc1, go tool pprof $rc2: $(head -c 300 "$T/ours.err")"
	elif cmp -s "$T/ours" "$T/theirs"; then
		echo "PASS $name"
	else
		echo "FAIL $name: $(diff "$T/ours" "$T/theirs" | head -6 | tr '\n' '|')"
	fi
}

d=$top/tests/data
for f in "$d"/*.pb.gz "$T"/syn/*.pb.gz; do
	[ -f "$f" ] || continue
	b=$(basename "$f" .pb.gz)
	compare "$b -traces" -traces "$f"
	compare "$b -raw" -raw "$f"
	compare "$b -tags" -tags "$f"
	compare "$b -comments" -comments "$f"
	compare "$b -tree" -tree "$f"
	compare "$b -tree -cum -nodecount=4" -tree -cum -nodecount=4 "$f"
	compare "$b -peek=." -peek=. "$f"
	compare "$b -traces -lines -mean" -traces -lines -mean "$f"
	compare "$b -tags -sample_index=0 -unit=ms" -tags -sample_index=0 -unit=ms "$f"
done
s=$T/syn
compare "heap -tags -alloc_space" -tags -alloc_space "$d/go-heap.pb.gz"
compare "heap -traces -inuse_objects -addresses" -traces -inuse_objects -addresses "$d/go-heap.pb.gz"
compare "cpu -peek=runtime -lines" -peek=runtime -lines "$d/go-cpu.pb.gz"
compare "cpu -tree -nodecount=3 -compact_labels" -tree -nodecount=3 -compact_labels "$d/go-cpu.pb.gz"
compare "cpu -traces -focus=main -hide=runtime" -traces -focus=main -hide=runtime "$d/go-cpu.pb.gz"
compare "cpu -peek=nosuch (no match)" -peek=nosuch "$d/go-cpu.pb.gz"
compare "cpu -traces -tree (two formats)" -traces -tree "$d/go-cpu.pb.gz"
compare "merge cpu+cpu-many -raw" -raw "$d/go-cpu.pb.gz" "$d/go-cpu-many.pb.gz"
compare "merge cpu+cpu-many -traces" -traces "$d/go-cpu.pb.gz" "$d/go-cpu-many.pb.gz"
compare "merge labels x2 -raw" -raw "$s/rep-labels.pb.gz" "$s/rep-labels.pb.gz"
for tz in UTC Asia/Kolkata; do
	TZ=$tz compare "TZ=$tz -raw time" -raw "$s/rep-labels.pb.gz"
done

# A profile cprof writes: inlined frames, file names and lines. Its source
# is in the tree, so -list finds it from the top directory.
cp "$PROGS/inline_work" "$T/bin/inline_work"
if "$CPROF" run -cpuprofile="$T/inline.prof" -- "$T/bin/inline_work" 300 >/dev/null 2>"$T/run.err"; then
	p=$T/inline.prof
	for fl in -traces -raw -tree -tags "-peek=work" "-traces -noinlines" "-tree -lines" \
		"-peek=mix -noinlines" "-traces -filefunctions"; do
		# shellcheck disable=SC2086 # word splitting of the flag sets is wanted
		compare "inline_work $fl" $fl "$p"
	done
	(cd "$top" && compare "inline_work -list=work (cwd: top)" -list=work "$p")
	(cd "$top" && compare "inline_work -list=. -noinlines" -list=. -noinlines "$p")
	(cd "$T" && compare "inline_work -list=work -source_path" -list=work -source_path="$top" "$p")
	(cd "$T" && compare "inline_work -list=work -source_path a:b (parents)" \
		-list=work -source_path="$T/nonexistent:$top/tests/progs/x/y" "$p")
	(cd "$T" && compare "inline_work -list=work (not found)" -list=work "$p")
	(cd "$top/tests" && compare "inline_work -list=work -trim_path" -list=work -trim_path=/nonexistent "$p")
	compare "inline_work -list=nosuch (no match)" -list=nosuch "$p"
else
	echo "FAIL pprof_reports inline_work profile: cprof run failed: $(head -c 300 "$T/run.err")"
fi
exit 0
