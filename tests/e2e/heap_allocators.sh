#!/usr/bin/env bash
# heap_allocators.sh - the heap profiler over jemalloc, tcmalloc (gperftools)
# and mimalloc: preloaded after libcprof and linked into the program, the
# calls reach the program's allocator through our wrappers and the counts at
# rate 1 stay exact (threads freeing each other's blocks included), the
# default-rate estimates stay within bounds, and an allocator preloaded
# before libcprof, which hides malloc from us, is reported.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

libdir=$(dirname "$(ldconfig -p 2>/dev/null | awk '/libc.so.6 .*x86-64/ { print $NF; exit }')")
LIB=$CPROF_BUILD/lib/libcprof.so
SRC=$CPROF_TOP/tests/progs/heap_sites.c

# exact NAME PROFILE OUT: every site line of OUT matches PROFILE's alloc_objects/alloc_space/inuse exactly.
exact() {
	local bad= n=0 name count bytes icount ibytes got
	while read -r _ name count bytes icount ibytes; do
		got="$(flat_value "$2" alloc_objects "$name") $(flat_value "$2" alloc_space "$name") $(flat_value "$2" inuse_space "$name")"
		[ "$got" = "$count $bytes $ibytes" ] || bad="$bad $name: $got (want $count $bytes $ibytes);"
		n=$((n + 1))
	done < <(grep '^site ' "$3")
	if [ -z "$bad" ] && [ $n -ge 8 ]; then
		pass "$1" "$n sites exact at rate 1"
	else
		fail "$1" "$n sites;$bad"
	fi
}

cxx=
if command -v g++ >/dev/null && g++ -O2 -g -o "$T/heap_cxx" "$CPROF_TOP/tests/progs/heap_cxx.cc" 2>/dev/null; then
	cxx=$T/heap_cxx
fi

tested=0
for alloc in libjemalloc.so.2 libtcmalloc.so.4 libmimalloc.so.2; do
	lib=$libdir/$alloc
	if [ ! -e "$lib" ]; then
		info "$alloc not installed (scripts/deps.sh test installs it); skipped"
		continue
	fi
	tested=$((tested + 1))
	name=${alloc%%.so*}
	name=${name#lib}
	# Preloaded after libcprof (cprof run puts the runtime first).
	LD_PRELOAD="$LIB:$lib" CPROF_MEMPROFILE="$T/$name.prof" CPROF_MEM_RATE=1 \
		"$PROGS/heap_sites" 64 threads >"$T/$name.out" 2>"$T/$name.err"
	st=$?
	[ $st -eq 0 ] || fail "heap_${name}_run" "exit $st: $(tail -3 "$T/$name.err" | tr '\n' ' ')"
	if check_valid "heap_$name" "$T/$name.prof"; then
		exact "heap_${name}_exact" "$T/$name.prof" "$T/$name.out"
		go tool pprof -raw "$T/$name.prof" 2>/dev/null | grep -q "allocator .*$alloc" &&
			pass "heap_${name}_forwarded" "the profile names $alloc as the allocator calls went to" ||
			fail "heap_${name}_forwarded" "$(go tool pprof -raw "$T/$name.prof" 2>/dev/null | grep -m1 allocator)"
	fi
	# C++: these allocators define operator new themselves (it does not call malloc).
	if [ -n "$cxx" ]; then
		LD_PRELOAD="$LIB:$lib" CPROF_MEMPROFILE="$T/$name-cxx.prof" CPROF_MEM_RATE=1 "$cxx" >/dev/null 2>&1
		got=$(go tool pprof -top -cum -sample_index=alloc_objects -nodecount=1000 "$T/$name-cxx.prof" 2>/dev/null |
			awk '$6 == "cxx_new" { a = $4 } $6 == "cxx_new_array" { b = $4 } END { print a + 0, b + 0 }')
		got="$got $(flat_value "$T/$name-cxx.prof" inuse_objects cxx_new) $(flat_value "$T/$name-cxx.prof" inuse_objects cxx_new_array)"
		[ "$got" = "1000 500 0 0" ] && pass "heap_${name}_cxx" "operator new/new[] through $alloc: 1000 and 500 recorded, none left after delete" ||
			fail "heap_${name}_cxx" "cxx_new, cxx_new_array allocated / in use: $got (want 1000 500 0 0)"
	fi
	# Default rate: the estimates.
	LD_PRELOAD="$LIB:$lib" CPROF_MEMPROFILE="$T/$name-def.prof" "$PROGS/heap_sites" 1 >"$T/$name-def.out" 2>/dev/null
	if check_valid "heap_${name}_default" "$T/$name-def.prof"; then
		worst=$(grep '^site ' "$T/$name-def.out" | grep -v site_keep | while read -r _ s c b _ _; do
			echo "$s $(flat_value "$T/$name-def.prof" alloc_space "$s") $b"
		done | awk '{ r = $2 / $3; d = r > 1 ? r - 1 : 1 - r; if (d > w) { w = d; n = $1 } } END { printf "%.4f %s\n", w, n }')
		in_range "heap_${name}_default_worst" "${worst%% *}" 0 0.15 "largest |alloc_space/truth - 1| over 6 sites (${worst#* }), bound 0.15"
	fi
	# Linked into the program instead of preloaded.
	flag=-l${name}
	if cc -O2 -g -D_GNU_SOURCE -o "$T/sites-$name" "$SRC" -lpthread -L"$libdir" -l:"$alloc" 2>"$T/cc.err"; then
		LD_PRELOAD="$LIB" CPROF_MEMPROFILE="$T/$name-linked.prof" CPROF_MEM_RATE=1 \
			"$T/sites-$name" 64 threads >"$T/$name-linked.out" 2>/dev/null
		if check_valid "heap_${name}_linked" "$T/$name-linked.prof"; then
			exact "heap_${name}_linked_exact" "$T/$name-linked.prof" "$T/$name-linked.out"
		fi
	else
		fail "heap_${name}_link" "cannot link with $flag: $(head -c 200 "$T/cc.err")"
	fi
	# Preloaded before libcprof: its malloc comes first, we never see the calls; say so.
	LD_PRELOAD="$lib:$LIB" CPROF_MEMPROFILE="$T/$name-rev.prof" "$PROGS/heap_sites" 256 >/dev/null 2>"$T/rev.err"
	st=$?
	if [ $st -eq 0 ] && grep -q "malloc resolves to a library loaded before libcprof" "$T/rev.err"; then
		pass "heap_${name}_order" "preloaded before libcprof: runs, and the message says to put libcprof first"
	else
		fail "heap_${name}_order" "exit $st: $(head -c 300 "$T/rev.err")"
	fi
done
[ $tested -gt 0 ] || fail heap_allocators_none "none of jemalloc, tcmalloc, mimalloc is installed"
