#!/usr/bin/env bash
# http_off.sh - /debug/pprof/<name> for a profiler that is off in this
# process. Go's handler serves any profile it knows, recorded or not: block
# and mutex at rate 0 are empty, valid profiles. So here: with no heap
# profiler (it starts only at load) and block/mutex never turned on, heap,
# allocs, peak, block and mutex each answer 200 with a valid profile that
# go tool pprof reads silently, with the kind's sample types and no
# samples; the heap kinds say why in a comment (proto) or a "#" line
# (debug=1, which starts with Go's heap header); a delta (seconds=1) works
# too. Unknown names still get 404.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/http.inc
. "$(dirname "$0")/http.inc"

serve off 60
if [ -z "$PORT" ]; then
	fail http_off_serving "no 'serving' line on stderr: $(head -c 300 "$ERR")"
	exit 1
fi

# types NAME FILE: the sample types go tool pprof -raw lists, space-separated.
types() {
	go tool pprof -raw "$1" 2>/dev/null | awk '/^Samples:/ { getline; $1 = $1; print; exit }'
}

for k in heap:"alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes" \
	allocs:"alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes" \
	peak:"inuse_objects/count inuse_space/bytes" \
	block:"contentions/count delay/nanoseconds" mutex:"contentions/count delay/nanoseconds"; do
	name=${k%%:*} want=${k#*:}
	st=$(curl -s -o "$T/$name.pb.gz" -w '%{http_code}' --max-time 30 "$BASE/$name")
	in_range "http_off_${name}_status" "$st" 200 200 "200 for /debug/pprof/$name with its profiler off"
	check_valid "http_off_$name" "$T/$name.pb.gz" || continue
	got=$(types "$T/$name.pb.gz" | sed 's/\[dflt\]//')
	n=$(raw_totals "$T/$name.pb.gz" | cut -d' ' -f1)
	if [ "$got" = "$want" ] && [ "${n:-x}" = 0 ]; then
		pass "http_off_${name}_types" "$got, 0 samples"
	else
		fail "http_off_${name}_types" "types '$got' (want '$want'), ${n:-?} samples (want 0)"
	fi
done

# The heap kinds say why they are empty.
if go tool pprof -comments "$T/heap.pb.gz" 2>/dev/null | grep -q 'heap profiler is off'; then
	pass http_off_heap_comment "$(go tool pprof -comments "$T/heap.pb.gz" 2>/dev/null | head -1)"
else
	fail http_off_heap_comment "no comment saying the profiler is off: $(go tool pprof -comments "$T/heap.pb.gz" 2>&1 | head -c 200)"
fi
# go tool pprof straight from the endpoint: exit 0, nothing on stderr.
go tool pprof -top "$BASE/heap" >"$T/top" 2>"$T/top.err"
rc=$?
if [ $rc -eq 0 ] && ! grep -v '^Fetching profile\|^Saved profile in' "$T/top.err" | grep -q .; then
	pass http_off_go_pprof "go tool pprof -top $BASE/heap: exit 0, no error"
else
	fail http_off_go_pprof "exit $rc: $(head -c 300 "$T/top.err")"
fi
curl -s --max-time 30 "$BASE/heap?debug=1" >"$T/heap.txt"
if head -1 "$T/heap.txt" | grep -q '^heap profile: 0: 0 \[0: 0\] @ heap/' && grep -q '^# cprof: the heap profiler is off' "$T/heap.txt"; then
	pass http_off_heap_text "$(head -1 "$T/heap.txt"), and a '#' line saying why"
else
	fail http_off_heap_text "$(head -c 300 "$T/heap.txt")"
fi
go tool pprof -raw "$BASE/heap?debug=1" >/dev/null 2>"$T/text.err"
rc=$?
if [ $rc -eq 0 ] && ! grep -v '^Fetching profile\|^Saved profile in' "$T/text.err" | grep -q .; then
	pass http_off_heap_text_read "go tool pprof reads the debug=1 text"
else
	fail http_off_heap_text_read "exit $rc: $(head -c 300 "$T/text.err")"
fi
st=$(curl -s -o "$T/delta.pb.gz" -w '%{http_code}' --max-time 30 "$BASE/heap?seconds=1")
in_range http_off_heap_delta_status "$st" 200 200 "200 for a delta of the heap profile with the profiler off"
check_valid http_off_heap_delta "$T/delta.pb.gz"
in_range http_off_unknown "$(status "$BASE/no-such-profile")" 404 404 "404 Unknown profile still"

finish >/dev/null
