#!/usr/bin/env bash
# labels_heap.sh - labels on heap samples, with known truth: every
# allocation of tests/progs/labels_heap_linked (CPROF_MEM_RATE=1, all kept
# live) is made under one label set, so a function's in-use bytes under
# -tagfocus for its labels are all of its bytes, and equal what it
# allocated: 200, 100, 50 and 50 blocks of 64 KiB. A thread inherits its
# creator's labels. Then the same under tcmalloc and jemalloc (the runtime
# preloaded first, so its malloc wrappers come before the allocator's).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# bytes FILE FUNC [flags]: FUNC's cum in-use bytes.
bytes() {
	local f=$1 fn=$2
	shift 2
	go tool pprof -top -cum -unit=B -nodefraction=0 -nodecount=100000 "$@" "$f" 2>/dev/null |
		awk -v fn="$fn" '$5 ~ /%$/ && $6 == fn { v = $4; sub(/B$/, "", v); print v + 0; found = 1; exit }
			END { if (!found) print 0 }'
}

check() { # prefix file
	local p=$1 f=$2 pair fn tag n want got all
	check_valid "$p" "$f" || return
	for pair in heap_load:phase=load:200 heap_child:tenant=acme:100 heap_worker:worker=w1:50 \
		heap_worker:phase=serve:50 heap_none:-:50; do
		IFS=: read -r fn tag n <<<"$pair"
		want=$((n * 65536))
		all=$(bytes "$f" "$fn")
		if [ "$tag" = - ]; then
			got=$(bytes "$f" "$fn" -tagignore=phase=load,serve)
		else
			got=$(bytes "$f" "$fn" -tagfocus="$tag")
		fi
		if [ "$got" = "$want" ] && [ "$all" = "$want" ]; then
			pass "${p}_${fn}_${tag%%=*}" "$fn: $got bytes in use under ${tag/-/no labels} = all of it = $n x 64 KiB"
		else
			fail "${p}_${fn}_${tag%%=*}" "$fn: $got bytes under $tag, $all in all (want $want both)"
		fi
	done
	got=$(bytes "$f" heap_load -tagfocus=tenant=acme)
	in_range "${p}_heap_load_not_acme" "$got" 0 0 "heap_load bytes under tenant=acme"
}

CPROF_MEMPROFILE="$T/h.prof" CPROF_MEM_RATE=1 "$PROGS/labels_heap_linked" 2>"$T/err"
in_range labels_heap_exit "$?" 0 0 "exit status 0"
check labels_heap "$T/h.prof"

libdir=$(dirname "$(ldconfig -p 2>/dev/null | awk '/libc.so.6 .*x86-64/ { print $NF; exit }')")
for alloc in libtcmalloc.so.4 libjemalloc.so.2; do
	[ -e "$libdir/$alloc" ] || { info "$alloc not installed; skipped"; continue; }
	name=${alloc%%.so*}
	LD_PRELOAD="$CPROF_BUILD/lib/libcprof.so:$libdir/$alloc" CPROF_MEMPROFILE="$T/$name.prof" CPROF_MEM_RATE=1 "$PROGS/labels_heap_linked" 2>"$T/err"
	in_range "labels_heap_${name}_exit" "$?" 0 0 "exit status 0 under $alloc"
	check "labels_heap_$name" "$T/$name.prof"
done
