#!/usr/bin/env bash
# bench_example.sh - the benchmark harness as a user gets it: `make install`
# into a scratch root, then examples/bench built from the installed headers,
# libraries, pkg-config file and cprof.mk; `make compare` (interleaved runs,
# cprof benchstat) and `make profile-cpu` (cprof.mk) must work, and the
# static library must link too.
. "$(dirname "$0")/lib.sh"

san=
[ "$(basename "$CPROF_BUILD")" = build-san ] && san=address,undefined
root=$T/root
if ! make -s -C "$CPROF_TOP" install DESTDIR="$root" PREFIX=/usr/local SAN="$san" >"$T/install.out" 2>&1; then
	fail bench_install "make install: $(tail -n 5 "$T/install.out" | tr '\n' ' ')"
	exit 1
fi
prefix=$root/usr/local
missing=
for f in lib/libcprof-bench.so lib/libcprof-bench.a include/cprof/bench.h lib/pkgconfig/cprof-bench.pc share/cprof/cprof.mk; do
	[ -f "$prefix/$f" ] || missing="$missing $f"
done
if [ -z "$missing" ]; then
	pass bench_install "make install puts libcprof-bench.{so,a}, cprof/bench.h, cprof-bench.pc and cprof.mk in place"
else
	fail bench_install "missing:$missing"
fi
# The .pc files name the PREFIX given at build time; point them at the scratch root.
for f in "$prefix"/lib/pkgconfig/*.pc; do
	sed -i "s|^prefix=.*|prefix=$prefix|" "$f"
done
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
cp -r "$CPROF_TOP/examples/bench" "$T/ex"
cprof=$prefix/bin/cprof

make -C "$T/ex" compare CPROF="$cprof" COUNT=6 BENCHFLAGS="-bench=. -benchtime=20ms" >"$T/cmp.out" 2>"$T/cmp.err"
rc=$?
row=$(grep -m1 -E '^CountBits/words=1024(-[0-9]+)? ' "$T/cmp.out")
if [ "$rc" = 0 ] && [ -n "$row" ] && echo "$row" | grep -qE '\(p=[0-9.]+ n=6\)' && grep -q '^pkg: example/popcount$' "$T/cmp.out" &&
	[ "$(grep -c '^BenchmarkCountBits/words=16' "$T/ex/old.txt")" = 6 ]; then
	pass bench_example_compare "make compare: 6 interleaved runs of each version, one benchstat table: $row"
else
	fail bench_example_compare "exit $rc: $(tail -n 5 "$T/cmp.err" | tr '\n' ' ') $(head -c 300 "$T/cmp.out")"
fi

make -C "$T/ex" profile-cpu CPROF="$cprof" CPROF_ARGS="-bench=CountBits/words=1024 -benchtime=300ms" >"$T/prof.out" 2>"$T/prof.err"
rc=$?
if [ "$rc" = 0 ] && check_valid bench_example_profile "$T/ex/cprof-out/cpu.pprof"; then
	if has_func "$T/ex/cprof-out/cpu.pprof" count_bits && grep -q 'count_bits' "$T/prof.out"; then
		pass bench_example_profile_cpu "make profile-cpu (cprof.mk) wrote cprof-out/cpu.pprof with count_bits in it and printed the report"
	else
		fail bench_example_profile_cpu "count_bits not in the profile or the report: $(head -c 300 "$T/prof.out")"
	fi
else
	fail bench_example_profile_cpu "exit $rc: $(tail -n 5 "$T/prof.err" | tr '\n' ' ')"
fi

# profile-serve: cprof pprof -http on the profile just written. It runs in
# a session of its own, stopped by its process group id.
port=$((20000 + $$ % 20000))
setsid make -C "$T/ex" profile-serve CPROF="$cprof" CPROF_HTTP="127.0.0.1:$port" CPROF_SERVE_FLAGS=-no_browser \
	>"$T/serve.out" 2>"$T/serve.err" &
spid=$!
ok=
for _ in $(seq 50); do
	if curl -sfL "http://127.0.0.1:$port/" -o "$T/serve.html" 2>/dev/null; then
		ok=1
		break
	fi
	sleep 0.2
done
kill -- -"$spid" 2>/dev/null
wait "$spid" 2>/dev/null
if [ -n "$ok" ] && grep -qi '<html' "$T/serve.html"; then
	pass bench_example_profile_serve "make profile-serve (cprof.mk) serves cprof pprof's web UI on 127.0.0.1:$port"
else
	fail bench_example_profile_serve "no page on 127.0.0.1:$port: $(tail -n 3 "$T/serve.err" | tr '\n' ' ') $(head -c 200 "$T/serve.out")"
fi

make -C "$T/ex" profile-mem CPROF="$cprof" CPROF_MEMRATE=1 CPROF_ARGS="-bench=CountBits/words=1024 -benchtime=100x" \
	>"$T/mprof.out" 2>"$T/mprof.err"
rc=$?
if [ "$rc" = 0 ] && check_valid bench_example_memprofile "$T/ex/cprof-out/mem.pprof"; then
	if has_func "$T/ex/cprof-out/mem.pprof" bench_size && grep -q 'bench_size' "$T/mprof.out"; then
		pass bench_example_profile_mem "make profile-mem (cprof.mk) wrote cprof-out/mem.pprof with bench_size's allocation and printed the report"
	else
		fail bench_example_profile_mem "bench_size not in the profile or the report: $(head -c 300 "$T/mprof.out")"
	fi
else
	fail bench_example_profile_mem "exit $rc: $(tail -n 5 "$T/mprof.err" | tr '\n' ' ')"
fi

make -C "$T/ex" trace CPROF="$cprof" CPROF_ARGS="-bench=CountBits/words=1024 -benchtime=100x" \
	>"$T/trace.out" 2>"$T/trace.err"
rc=$?
if [ "$rc" = 0 ] && python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(not d["traceEvents"])' \
	"$T/ex/cprof-out/trace.json" 2>>"$T/trace.err"; then
	pass bench_example_trace "make trace (cprof.mk) wrote cprof-out/trace.out and its Chrome trace JSON"
else
	fail bench_example_trace "exit $rc: $(tail -n 5 "$T/trace.err" | tr '\n' ' ')"
fi

# The static library: main() comes from the archive.
lib=$prefix/lib
if cc -O2 -I"$prefix/include" -o "$T/static_bench" "$T/ex/popcount_bench.c" "$T/ex/popcount_v2.c" "$lib/libcprof-bench.a" \
	-L"$lib" -Wl,--no-as-needed -lcprof -Wl,-rpath,"$lib" -lpthread -lm 2>"$T/static.err" &&
	"$T/static_bench" -bench=. -benchtime=10x >"$T/static.out" 2>&1 && grep -qP "^BenchmarkCountBits/words=16(-\d+)? +\t +10\t" "$T/static.out"; then
	pass bench_static_lib "a program linked with libcprof-bench.a runs its benchmarks"
else
	fail bench_static_lib "$(head -c 300 "$T/static.err") $(head -c 300 "$T/static.out" 2>/dev/null)"
fi
