#!/usr/bin/env bash
# heap_edges.sh - how frees tell sampled blocks (the header before a sampled
# block, the registry's bitmap for page-aligned ones) and the private arena
# profiles are written from, at their edges, over glibc, jemalloc, tcmalloc
# and mimalloc: every member of the malloc family keeps its alignment,
# usable size and contents when sampled; realloc chains through sampled and
# aligned blocks keep their data; blocks from before profiling started,
# blocks with a forged header (also one naming a live sampled block's
# registry node, where the allocator keeps no header between blocks),
# libc's own blocks and blocks freed on another thread are freed right; writing a profile leaves glibc's heap
# statistics unchanged (no consolidation, no growth); and the blocks kept
# at exit are in the profile exactly (rate 1).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

libdir=$(dirname "$(ldconfig -p 2>/dev/null | awk '/libc.so.6 .*x86-64/ { print $NF; exit }')")
LIB=$CPROF_BUILD/lib/libcprof.so

for alloc in glibc libjemalloc.so.2 libtcmalloc.so.4 libmimalloc.so.2; do
	pre=$LIB glibc=1 name=glibc
	if [ $alloc != glibc ]; then
		[ -e "$libdir/$alloc" ] || { info "$alloc not installed; skipped"; continue; }
		pre="$LIB:$libdir/$alloc" glibc=0 name=${alloc%%.so*} name=${name#lib}
	fi
	HEAP_EDGES_GLIBC=$glibc LD_PRELOAD=$pre "$PROGS/heap_edges" "$T/$name.prof" >"$T/$name.out" 2>"$T/$name.err"
	st=$?
	[ $st -eq 0 ] && pass "edges_${name}_exit" "exit 0" ||
		fail "edges_${name}_exit" "exit $st: $(grep FAIL "$T/$name.out" | tr '\n' ' ') $(tail -2 "$T/$name.err" | tr '\n' ' ')"
	nok=$(grep -c '^check .* ok$' "$T/$name.out")
	bad=$(grep '^check .* FAIL' "$T/$name.out" | tr '\n' ' ')
	want=8
	[ $glibc = 1 ] && want=9
	[ -z "$bad" ] && [ "$nok" -eq $want ] && pass "edges_${name}_checks" "$nok checks ok" ||
		fail "edges_${name}_checks" "$nok of $want ok; $bad"
	if [ $glibc = 1 ]; then
		grep -q '^forged 1' "$T/$name.out" && pass "edges_${name}_forged" "a block whose preceding word looked like a header was freed right" ||
			fail "edges_${name}_forged" "the program found no neighbouring blocks to forge a header between"
		grep '^mallinfo' "$T/$name.out" | sed 's/^/INFO /'
	else
		grep -q '^forged_node 1' "$T/$name.out" &&
			pass "edges_${name}_forged_node" "a block whose preceding 16 bytes named a live sampled block's node kept its size and was freed right" ||
			fail "edges_${name}_forged_node" "$(grep '^forged_node' "$T/$name.out") (1: forged and right; 0: no neighbours found; -1: the usable size changed)"
	fi
	if check_valid "edges_$name" "$T/$name.prof" && check_valid "edges_${name}_mid" "$T/$name.prof.mid"; then
		while read -r _ site count bytes; do
			got="$(flat_value "$T/$name.prof" inuse_objects "$site" -unit=) $(flat_value "$T/$name.prof" inuse_space "$site")"
			[ "$got" = "$count $bytes" ] && pass "edges_${name}_$site" "in use at the end: $got, exact" ||
				fail "edges_${name}_$site" "in use: $got (want $count $bytes)"
		done < <(grep '^site ' "$T/$name.out")
	fi
done
