#!/usr/bin/env bash
# pprof's legacy text formats (src/cli/source/legacy_text.c), read by
# cprof pprof and by go tool pprof, which must print the same thing:
#   - every profile the runtime writes with debug=1 (heap, allocs, block,
#     mutex, threads, threadcreate), from tests/progs/legacy_text_linked;
#   - Go's own debug=1 files (runtime/pprof.Lookup(...).WriteTo(w, 1)) from
#     tests/data/gen_legacy, also symbolized with the Go binary, where
#     pprof prunes the runtime's allocation frames (drop_frames);
#   - hand-written fixtures of the other variants (tests/data/legacy_text:
#     heapz_v2, heapprofile, growthz, fragmentationz, threadz, contentionz,
#     Java heapz/contentionz/CPU, maps with glog prefixes, $attr
#     substitution and pprof's heuristics);
#   - broken files: both tools fail, with the same reason.
# -raw with -symbolize=none is compared byte for byte (symbolization of C
# binaries differs between the tools: docs/pprof-differences.md), plus
# -top and -traces where both symbolize alike.
set -u
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
if ! command -v go >/dev/null 2>&1; then
	pass legacy_text_skipped "go is not installed: nothing to compare against"
	exit 0
fi
export GOCACHE=$T/gocache GOFLAGS= GO111MODULE=off
DATA=$CPROF_TOP/tests/data/legacy_text

# same NAME ARGS...: same stdout and exit status; when both fail, the same
# "parsing profile: ..." reason.
same() {
	local name=$1
	shift
	"$CPROF" pprof "$@" >"$T/ours" 2>"$T/ours.err"
	local rc1=$?
	go tool pprof "$@" >"$T/theirs" 2>"$T/theirs.err"
	local rc2=$?
	if [ $rc1 -ne $rc2 ]; then
		fail "$name" "exit status $rc1, go tool pprof $rc2: $(head -c 300 "$T/ours.err") | $(head -c 300 "$T/theirs.err")"
	elif ! cmp -s "$T/ours" "$T/theirs"; then
		fail "$name" "$(diff "$T/ours" "$T/theirs" | head -8 | tr '\n' '|')"
	elif [ $rc1 -ne 0 ]; then
		local why
		why=$(grep -o 'parsing profile: .*' "$T/theirs.err" | head -1)
		if [ -n "$why" ] && grep -qF -- "$why" "$T/ours.err"; then
			pass "$name" "both fail: $why"
		else
			fail "$name" "go tool pprof: '$why'; cprof: $(head -c 300 "$T/ours.err")"
		fi
	else
		pass "$name" "same as go tool pprof ($(wc -l <"$T/ours") lines)"
	fi
}

# ---- what the runtime writes with debug=1 ----
mkdir -p "$T/rt"
out=$(CPROF_BLOCK_RATE=1 CPROF_MUTEX_FRACTION=1 "$PROGS/legacy_text_linked" "$T/rt" 2>"$T/rt.err")
in_range legacy_text_runtime_wrote "${out#wrote }" 6 6 "6 debug=1 files written: $(head -c 200 "$T/rt.err")"
for n in heap allocs block mutex threads threadcreate; do
	same "legacy_text_runtime_${n}_raw" -raw -symbolize=none "$T/rt/$n.txt"
done
same legacy_text_runtime_heap_traces -traces -symbolize=none "$T/rt/heap.txt"
same legacy_text_runtime_mutex_top -top -symbolize=none -addresses "$T/rt/mutex.txt"
# Exact counts at rate 1: lt_keep holds 40 blocks of 4096 bytes plus its 320-byte array.
"$CPROF" pprof -top -sample_index=inuse_space -unit=B -nodefraction=0 "$T/rt/heap.txt" >"$T/rt.top" 2>&1
v=$(awk '$NF == "lt_keep" { sub(/B$/, "", $1); print $1 }' "$T/rt.top")
in_range legacy_text_runtime_heap_exact "${v:-0}" 164160 164160 "lt_keep's inuse_space from the text, symbolized by cprof"
v=$(awk '$NF == "lt_fight" { print $NF }' <("$CPROF" pprof -top -nodefraction=0 "$T/rt/mutex.txt" 2>&1))
if [ "$v" = lt_fight ]; then
	pass legacy_text_runtime_mutex_named "the contended mutex's releaser lt_fight, symbolized from the maps"
else
	fail legacy_text_runtime_mutex_named "no lt_fight in cprof pprof -top of the mutex text"
fi

# ---- what Go writes with debug=1 ----
if ! go build -o "$T/gen_legacy" "$CPROF_TOP/tests/data/gen_legacy/main.go" 2>"$T/build.err"; then
	fail legacy_text_go_build "$(head -c 300 "$T/build.err")"
else
	mkdir -p "$T/go"
	"$T/gen_legacy" "$T/go" >/dev/null 2>"$T/gen.err" || fail legacy_text_go_run "$(head -c 300 "$T/gen.err")"
	for n in heap allocs goroutine block mutex; do
		same "legacy_text_go_${n}_raw" -raw -symbolize=none "$T/go/$n.txt"
	done
	# Go's threadcreate lists stacks with no addresses ("5 @"): pprof rejects them.
	same legacy_text_go_threadcreate -raw -symbolize=none "$T/go/threadcreate.txt"
	# Symbolized with the binary: the allocation frames pprof's drop_frames
	# name (runtime\..*) are pruned alike. ELF symbol names differ from
	# pprof's Go table only by an ABI suffix (runtime.goexit.abi0).
	for n in heap goroutine; do
		"$CPROF" pprof -top -nodefraction=0 "$T/gen_legacy" "$T/go/$n.txt" 2>/dev/null | sed 's/\.abi0$//' >"$T/ours"
		go tool pprof -top -nodefraction=0 "$T/gen_legacy" "$T/go/$n.txt" 2>/dev/null >"$T/theirs"
		cp "$T/ours" "$T/$n.top"
		if [ -s "$T/ours" ] && cmp -s "$T/ours" "$T/theirs"; then
			pass "legacy_text_go_${n}_pruned" "-top with the Go binary as go tool pprof ($(wc -l <"$T/ours") lines)"
		else
			fail "legacy_text_go_${n}_pruned" "$(diff "$T/ours" "$T/theirs" | head -8 | tr '\n' '|')"
		fi
	done
	# concat allocates through runtime.concatstrings: those frames go, the bytes land on concat.
	v=$(awk '$NF == "main.concat" { print $1 }' "$T/heap.top")
	if [ -n "$v" ] && [ "$v" != 0 ] && ! grep -q 'runtime\.rawstring' "$T/heap.top"; then
		pass legacy_text_go_drop_frames "main.concat holds $v flat once runtime.rawstring and its callers are pruned"
	else
		fail legacy_text_go_drop_frames "main.concat flat '${v}': $(head -c 300 "$T/heap.top" | tr '\n' '|')"
	fi
fi

# ---- hand-written variants and broken files ----
for f in "$DATA"/*.txt; do
	same "legacy_text_$(basename "$f" .txt)" -raw -symbolize=none "$f"
done
# A line longer than bufio.Scanner's 64 KiB.
{
	printf 'heap profile: 1: 1 [1: 1] @ heap/2\n1: 1 [1: 1] @ 0x401000\n# '
	head -c 70000 /dev/zero | tr '\0' x
	printf '\n'
} >"$T/long_line.txt"
same legacy_text_long_line -raw -symbolize=none "$T/long_line.txt"
same legacy_text_java_cpu -raw -symbolize=none "$DATA/java_cpu.prof"
same legacy_text_java_heapz_top -top -symbolize=none "$DATA/java_heapz.txt"
same legacy_text_java_contentionz_traces -traces -symbolize=none "$DATA/java_contentionz.txt"
same legacy_text_contentionz_top -top -symbolize=none -addresses "$DATA/contentionz.txt"
same legacy_text_heapz_v2_alloc -top -symbolize=none -addresses -sample_index=alloc_space "$DATA/heapz_v2.txt"
gzip -c "$DATA/heap_rate.txt" >"$T/heap_rate.txt.gz"
same legacy_text_heap_gz -raw -symbolize=none "$T/heap_rate.txt.gz"
# Truncated anywhere: cprof reads what go tool pprof reads, or fails as it fails.
bad=0
total=0
size=$(wc -c <"$T/rt/heap.txt")
for cut in 1 17 40 $((size / 3)) $((size / 2)) $((size - 200)) $((size - 1)); do
	head -c "$cut" "$T/rt/heap.txt" >"$T/cut.txt"
	"$CPROF" pprof -raw -symbolize=none "$T/cut.txt" >"$T/ours" 2>/dev/null
	r1=$?
	go tool pprof -raw -symbolize=none "$T/cut.txt" >"$T/theirs" 2>/dev/null
	r2=$?
	total=$((total + 1))
	if [ $r1 -ne $r2 ] || ! cmp -s "$T/ours" "$T/theirs" || [ $r1 -gt 1 ]; then
		bad=$((bad + 1))
		info "truncated at $cut: exit $r1 / $r2"
	fi
done
in_range legacy_text_truncated "$bad" 0 0 "no difference over $total truncations (failures with exit 1, no crash)"
printf 'heap profile: 1: 1 [1: 1] @ heap/2\nbroken\n' >"$T/broken.txt"
"$CPROF" pprof -top "$T/broken.txt" >/dev/null 2>"$T/broken.err"
if grep -q "^cprof: pprof: $T/broken.txt: parsing profile: unexpected number of sample values" "$T/broken.err"; then
	pass legacy_text_error_names_file "$(head -1 "$T/broken.err")"
else
	fail legacy_text_error_names_file "$(head -c 300 "$T/broken.err")"
fi

# ---- over HTTP: the endpoint's debug=1 heap, read from the URL ----
# shellcheck source=tests/e2e/http.inc
. "$(dirname "$0")/http.inc"
BUSY_MODE=alloc serve text 60 CPROF_MEM_RATE=1024
if [ -z "$PORT" ]; then
	fail legacy_text_http_serving "no 'serving' line: $(head -c 300 "$ERR")"
else
	"$CPROF" pprof -top "$BASE/heap?debug=1" >"$T/http.top" 2>"$T/http.err"
	saved=$(sed -n 's/^Saved profile in //p' "$T/http.err")
	if grep -q ' http_alloc_before$' "$T/http.top" && [ -s "$saved" ]; then
		pass legacy_text_http "heap?debug=1 fetched, http_alloc_before named, saved as $(basename "$saved")"
	else
		fail legacy_text_http "$(head -c 300 "$T/http.top") $(head -c 300 "$T/http.err")"
	fi
	[ -s "$saved" ] && check_valid legacy_text_http_saved "$saved"
	finish >/dev/null
fi
