#!/usr/bin/env bash
# heap_misc.sh - the heap profiler's other outputs and situations, each
# against known truth at rate 1: the peak profile (in use when the heap was
# largest, not at exit), fork (the child writes FILE.<pid>), pool allocators
# annotated with cprof_heap_note_alloc/free, C++ new/delete, and the API
# (exact counts, a heap profile written at any moment, the allocs profile).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

MIB=1048576

# ---- peak ----
cprof_run "$T/err" -memprofile="$T/pk.prof" -peakprofile="$T/peak.prof" -memprofilerate=1 -- "$PROGS/heap_misc" peak >/dev/null
if check_valid heap_peak "$T/peak.prof" && check_valid heap_peak_heap "$T/pk.prof"; then
	# 1 MiB blocks plus the array holding their pointers.
	got="$(flat_value "$T/peak.prof" inuse_space peak_a) $(flat_value "$T/peak.prof" inuse_space peak_b) $(flat_value "$T/peak.prof" inuse_space peak_c)"
	want="$((8 * MIB + 64)) $((24 * MIB + 192)) 0"
	[ "$got" = "$want" ] && pass heap_peak_sites "at the peak: a 8 MiB, b 24 MiB, c nothing (exact)" ||
		fail heap_peak_sites "peak a b c: $got (want $want)"
	got="$(flat_value "$T/pk.prof" inuse_space peak_a) $(flat_value "$T/pk.prof" inuse_space peak_b) $(flat_value "$T/pk.prof" inuse_space peak_c)"
	want="$((8 * MIB + 64)) 0 $((4 * MIB + 32))"
	[ "$got" = "$want" ] && pass heap_peak_exit "at exit: a 8 MiB, b freed, c 4 MiB (exact)" ||
		fail heap_peak_exit "exit a b c: $got (want $want)"
	grep -q "peak heap profile of pid .* written to $T/peak.prof: 32.0 MiB in use at the peak" "$T/err" &&
		pass heap_peak_summary "cprof run: 32.0 MiB at the peak" || fail heap_peak_summary "$(grep peak "$T/err" | head -2)"
fi

# ---- fork ----
cprof_run "$T/err" -memprofile="$T/fk.prof" -memprofilerate=1 -- "$PROGS/heap_misc" fork >"$T/out"
child=$(awk '/^child/ { print $2 }' "$T/out")
if check_valid heap_fork_parent "$T/fk.prof" && check_valid heap_fork_child "$T/fk.prof.$child"; then
	got="$(flat_value "$T/fk.prof" inuse_objects fork_parent) $(flat_value "$T/fk.prof" inuse_objects fork_child)"
	got="$got $(flat_value "$T/fk.prof.$child" inuse_objects fork_parent) $(flat_value "$T/fk.prof.$child" inuse_objects fork_child)"
	[ "$got" = "100 0 100 200" ] &&
		pass heap_fork_profiles "parent: its 100 blocks; child (FILE.$child): the parent's 100 it inherited and its own 200" ||
		fail heap_fork_profiles "parent/child fork_parent fork_child: $got (want 100 0 100 200)"
fi

# ---- fatal signal: written by the writer thread, then the signal ends the program ----
LD_PRELOAD="$CPROF_BUILD/lib/libcprof.so" CPROF_MEMPROFILE="$T/term.prof" CPROF_MEM_RATE=1 \
	"$PROGS/heap_misc" hold >"$T/hold.out" 2>"$T/hold.err" &
pid=$!
for _ in $(seq 100); do
	grep -q ready "$T/hold.out" 2>/dev/null && break
	sleep 0.1
done
kill -TERM $pid
wait $pid
st=$?
if [ $st -eq 143 ] && check_valid heap_sigterm "$T/term.prof"; then
	got=$(flat_value "$T/term.prof" inuse_space hold_site)
	[ "$got" = "$((5 * MIB + 40))" ] && pass heap_sigterm_contents "SIGTERM: profile written, 5 MiB in use at hold_site, exit status 143" ||
		fail heap_sigterm_contents "hold_site in use $got (want $((5 * MIB + 40)))"
else
	fail heap_sigterm "exit status $st (want 143), profile: $(ls "$T"/term.prof* 2>&1 | head -1)"
fi

# ---- exec: the old image's profile goes to FILE.preexec.<pid>, the new image's to FILE ----
LD_PRELOAD="$CPROF_BUILD/lib/libcprof.so" CPROF_MEMPROFILE="$T/ex.prof" CPROF_MEM_RATE=1 \
	"$PROGS/heap_misc" exec >/dev/null 2>&1 &
pid=$!
wait $pid
if check_valid heap_exec_new "$T/ex.prof" && check_valid heap_exec_old "$T/ex.prof.preexec.$pid"; then
	got="$(flat_value "$T/ex.prof.preexec.$pid" inuse_space exec_site) $(flat_value "$T/ex.prof" inuse_space exec_site)"
	got="$got $(flat_value "$T/ex.prof" inuse_space peak_a)"
	[ "$got" = "$((3 * MIB + 24)) 0 $((8 * MIB + 64))" ] &&
		pass heap_exec "before exec: exec_site's 3 MiB in FILE.preexec.<pid>; the new image's own heap in FILE" ||
		fail heap_exec "exec_site old/new, peak_a new: $got"
fi

# ---- pool annotations ----
cprof_run "$T/err" -memprofile="$T/pool.prof" -memprofilerate=1 -- "$PROGS/heap_misc" pool >/dev/null
if check_valid heap_pool "$T/pool.prof"; then
	got="$(flat_value "$T/pool.prof" alloc_objects pool_get -tagfocus=kind=annotated) $(flat_value "$T/pool.prof" inuse_space pool_get)"
	[ "$got" = "10000 6400" ] && pass heap_pool_notes "10000 annotated objects, the 100 kept (6400 B) in use" ||
		fail heap_pool_notes "annotated objects, in-use bytes: $got (want 10000 6400)"
fi

# ---- C++ ----
if command -v g++ >/dev/null && g++ -O2 -g -o "$T/heap_cxx" "$CPROF_TOP/tests/progs/heap_cxx.cc" 2>"$T/cxx.err"; then
	cprof_run "$T/err" -memprofile="$T/cxx.prof" -memprofilerate=1 -- "$T/heap_cxx" >/dev/null
	if check_valid heap_cxx "$T/cxx.prof"; then
		# operator new is the leaf; each site is its caller.
		cum=$(go tool pprof -top -cum -sample_index=alloc_objects -nodecount=1000 "$T/cxx.prof" 2>/dev/null |
			awk '$6 == "cxx_new" { a = $4 } $6 == "cxx_new_array" { b = $4 } END { print a + 0, b + 0 }')
		[ "$cum" = "1000 500" ] && pass heap_cxx "new/delete under cxx_new: 1000, new[]/delete[] under cxx_new_array: 500 (exact)" ||
			fail heap_cxx "cum alloc_objects cxx_new cxx_new_array: $cum (want 1000 500)"
		spc=$(go tool pprof -top -cum -sample_index=alloc_space -unit=B -nodecount=1000 "$T/cxx.prof" 2>/dev/null |
			awk '$6 == "cxx_new" { a = $4 } $6 == "cxx_new_array" { b = $4 } END { sub(/B$/, "", a); sub(/B$/, "", b); print a + 0, b + 0 }')
		[ "$spc" = "48000 240000" ] && pass heap_cxx_bytes "48000 and 240000 bytes" || fail heap_cxx_bytes "cum alloc_space: $spc (want 48000 240000)"
	fi
else
	info "no C++ compiler: C++ check skipped ($(head -c 200 "$T/cxx.err" 2>/dev/null))"
fi

# ---- API ----
mkdir -p "$T/api"
"$PROGS/heap_api_linked" "$T/api" >"$T/out" 2>"$T/err"
if grep -q "counts mallocs=1000 frees=1000 bytes=100000 was=0" "$T/out"; then
	pass heap_mem_counts "cprof_mem_counts: 1000 mallocs, 1000 frees, 100000 bytes (exact)"
else
	fail heap_mem_counts "$(head -1 "$T/out")"
fi
grep -q "start=0 mid=0 end=0 allocs=0 bad=-22 rate=1 samples>0=1 own>0=1" "$T/out" &&
	pass heap_api_calls "start, write heap/allocs at any moment, -EINVAL for an unknown name, stats" ||
	fail heap_api_calls "$(tail -1 "$T/out")"
if check_valid heap_api_mid "$T/api/mid.prof" && check_valid heap_api_end "$T/api/end.prof" &&
	check_valid heap_api_allocs "$T/api/allocs.prof"; then
	got="$(flat_value "$T/api/mid.prof" inuse_space api_keep) $(flat_value "$T/api/end.prof" inuse_space api_keep)"
	got="$got $(flat_value "$T/api/end.prof" alloc_space api_keep) $(flat_value "$T/api/end.prof" alloc_objects api_churn)"
	got="$got $(flat_value "$T/api/end.prof" alloc_objects api_churn -tagfocus=phase=load)"
	[ "$got" = "50400 0 50400 400 100" ] &&
		pass heap_api_profiles "in use 50400 B mid-run, 0 after the frees; allocated 50400 B; 400 churn allocations, 100 of them labelled phase=load" ||
		fail heap_api_profiles "mid inuse, end inuse, alloc, churn objects, labelled: $got (want 50400 0 50400 400 100)"
	if grep -q "lookup=0,0" "$T/out" && check_valid heap_lookup_peak "$T/api/lookup.prof" &&
		head -1 "$T/api/lookup.txt" | grep -q "^heap profile: " && go tool pprof -raw "$T/api/lookup.txt" >/dev/null 2>&1; then
		pass heap_lookup "cprof_profile_write: \"peak\" as a profile, \"heap\" in Go's legacy text, which go tool pprof reads"
	else
		fail heap_lookup "$(grep lookup "$T/out"; head -2 "$T/api/lookup.txt" 2>&1)"
	fi
	ty=$(go tool pprof -top "$T/api/allocs.prof" 2>/dev/null | awk '/^Type:/ { print $2 }')
	[ "$ty" = alloc_space ] && pass heap_allocs_default "the allocs profile shows alloc_space by default" || fail heap_allocs_default "Type: $ty"
fi
