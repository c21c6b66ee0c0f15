#!/usr/bin/env bash
# heap_accuracy.sh - the heap profiler against allocation sites with known
# totals (tests/progs/heap_sites): at the default rate each site's
# alloc_space within 15% (multi-MiB blocks within 5%), the bound several
# sigmas of the sampler away (printed); at rate 1 every count and byte exact,
# including two threads freeing each other's blocks, realloc chains and the
# rest of the allocation family; the leak report; the realloc and lifetime
# labels; go tool pprof reading every profile with -inuse_space/-alloc_space.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

RATE=524288

# ---- default rate: estimates within bounds ----
cprof_run "$T/err1" -memprofile="$T/def.prof" -- "$PROGS/heap_sites" 1 >"$T/out1"
st=$?
[ $st -eq 0 ] && pass heap_default_run "exit 0" || fail heap_default_run "exit $st: $(tail -3 "$T/err1" | tr '\n' ' ')"
if check_valid heap_default "$T/def.prof"; then
	grep '^site ' "$T/out1" | while read -r _ name count bytes _ _; do
		[ "$name" = site_keep ] && continue # 1 MB in all: too few samples for a bound; checked at rate 1
		bound=15
		[ "$name" = site_big ] && bound=5
		if [ "$name" = site_realloc ]; then
			# 17 sizes 16 B .. 1 MiB per chain: the error is the big blocks'.
			awk -v r=$RATE -v c="$count" -v b=$bound 'BEGIN {
				chains = c / 17; v = 0; t = 0
				for (s = 16; s <= 1048576; s *= 2) { p = 1 - exp(-s / r); v += chains * s * s * (1 - p) / p; t += chains * s }
				rel = 100 * sqrt(v) / t
				printf "INFO poisson site_realloc: %d chains of 16 B..1 MiB, sigma=%.2f%%; bound %s%% = %.1f sigma\n", chains, rel, b, b / rel }'
		else
			poisson_note "$name" $RATE $((bytes / count)) "$count" $bound
		fi
		est=$(flat_value "$T/def.prof" alloc_space "$name")
		ratio=$(awk -v e="$est" -v t="$bytes" 'BEGIN { printf "%.4f", e / t }')
		in_range "heap_default_$name" "$ratio" "$(awk -v b=$bound 'BEGIN { print 1 - b / 100 }')" \
			"$(awk -v b=$bound 'BEGIN { print 1 + b / 100 }')" "alloc_space / truth within $bound%"
	done
	# The four Go sample types, and the legacy flags selecting them.
	t1=$(go tool pprof -top "$T/def.prof" 2>/dev/null | awk '/^Type:/ { print $2 }')
	t2=$(go tool pprof -alloc_space -top "$T/def.prof" 2>/dev/null | awk '/^Type:/ { print $2 }')
	t3=$(go tool pprof -inuse_objects -top "$T/def.prof" 2>/dev/null | awk '/^Type:/ { print $2 }')
	t4=$(go tool pprof -sample_index=alloc_objects -top "$T/def.prof" 2>/dev/null | awk '/^Type:/ { print $2 }')
	if [ "$t1 $t2 $t3 $t4" = "inuse_space alloc_space inuse_objects alloc_objects" ]; then
		pass heap_sample_types "default inuse_space; -alloc_space, -inuse_objects, -sample_index=alloc_objects select theirs"
	else
		fail heap_sample_types "got '$t1 $t2 $t3 $t4'"
	fi
	period=$(go tool pprof -raw "$T/def.prof" 2>/dev/null | awk '/^PeriodType:/ { pt = $2 " " $3 } /^Period:/ { print pt " " $2 }')
	[ "$period" = "space bytes $RATE" ] && pass heap_period "space/bytes, period $RATE" || fail heap_period "got '$period'"
fi
grep -q "cprof: heap profile of pid .* written to $T/def.prof: .* samples (1 per $RATE bytes)" "$T/err1" &&
	pass heap_run_summary "cprof run names the heap profile, its samples and rate" ||
	fail heap_run_summary "no summary line: $(tail -3 "$T/err1" | tr '\n' ' ')"

# ---- rate 1: exact ----
cprof_run "$T/err2" -memprofile="$T/one.prof" -memprofilerate=1 -memleaks -- "$PROGS/heap_sites" 16 threads >"$T/out2"
st=$?
[ $st -eq 0 ] && pass heap_exact_run "exit 0" || fail heap_exact_run "exit $st: $(tail -3 "$T/err2" | tr '\n' ' ')"
if check_valid heap_exact "$T/one.prof"; then
	bad=
	checked=0
	while read -r _ name count bytes icount ibytes; do
		got="$(flat_value "$T/one.prof" alloc_objects "$name") $(flat_value "$T/one.prof" alloc_space "$name")"
		got="$got $(flat_value "$T/one.prof" inuse_objects "$name") $(flat_value "$T/one.prof" inuse_space "$name")"
		[ "$got" = "$count $bytes $icount $ibytes" ] || bad="$bad $name: got $got want $count $bytes $icount $ibytes;"
		checked=$((checked + 1))
	done < <(grep '^site ' "$T/out2")
	if [ -z "$bad" ] && [ $checked -ge 8 ]; then
		pass heap_exact_sites "$checked sites (small, pages, calloc, posix_memalign, 4 MiB, realloc chains, kept, 2 threads freeing each other's): objects and bytes allocated and in use exact"
	else
		fail heap_exact_sites "$checked sites;$bad"
	fi
	# Blocks allocated and freed by the rest of the family and inside libc leave nothing in use.
	fam=$(flat_value "$T/one.prof" inuse_space site_family)
	libc=$(flat_value "$T/one.prof" inuse_space site_libc)
	fa=$(flat_value "$T/one.prof" alloc_objects site_family)
	n=$(awk '/^family/ { print $2 }' "$T/out2")
	# aligned_alloc, memalign, valloc, reallocarray(NULL), reallocarray(grow), malloc before realloc(p, 0): six per round.
	[ "$fam $libc $fa" = "0 0 $((6 * n))" ] &&
		pass heap_exact_family "aligned_alloc/memalign/valloc/reallocarray/realloc(p, 0): $fa allocations, none left; strdup/asprintf/realpath/getline freed: none left" ||
		fail heap_exact_family "in use family=$fam libc=$libc, family allocations $fa (want $((6 * n)))"
	grow=$(flat_value "$T/one.prof" alloc_objects site_realloc -tagfocus=kind=realloc_grow)
	chains=$(awk '$2 == "site_realloc" { print $3 / 17 }' "$T/out2")
	[ "$grow" = "$((chains * 16))" ] && pass heap_realloc_label "kind=realloc_grow: $grow reallocs (16 per chain)" ||
		fail heap_realloc_label "kind=realloc_grow: $grow (want $((chains * 16)))"
	short=$(flat_value "$T/one.prof" alloc_objects site_small -tagfocus=lifetime=short)
	want=$(awk '$2 == "site_small" { print $3 }' "$T/out2")
	keep=$(flat_value "$T/one.prof" alloc_objects site_keep -tagfocus=lifetime=short)
	[ "$short $keep" = "$want 0" ] && pass heap_lifetime_label "lifetime=short: all $short freed-at-once blocks, none of the kept ones" ||
		fail heap_lifetime_label "lifetime=short: site_small $short (want $want), site_keep $keep (want 0)"
	bl=$(go tool pprof -raw "$T/one.prof" 2>/dev/null | grep -c 'bytes:\[4194304\]')
	[ "$bl" -ge 1 ] && pass heap_bytes_label "numeric bytes label carries the block size (4194304)" || fail heap_bytes_label "no bytes:[4194304] label"
fi
if grep -q "cprof: leaks: [0-9]* blocks (.*) still allocated at exit, from [0-9]* stacks (exact" "$T/err2" &&
	grep -q "leaks:   976.6 KiB in 10 blocks: site_keep (heap_sites.c:" "$T/err2"; then
	pass heap_leak_report "summary line, and site_keep's 10 blocks of 100000 B named with file:line"
else
	fail heap_leak_report "$(grep leaks "$T/err2" | head -3 | tr '\n' ' ')"
fi
