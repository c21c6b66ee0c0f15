#!/usr/bin/env bash
# stacktab_run.sh - make bench-stacktab: the stack table's insert cost
# (bench_stacktab), alone or side by side with another build's binary in
# interleaved pairs (BASE=path/to/bench_stacktab), medians of each side and
# their ratio, CPU time and wall time per insert, load average before and
# after.
set -u
B=${1:?usage: stacktab_run.sh BUILD_DIR [BASE_BINARY]}
base=${2:-}
cand=$B/bench/bench_stacktab
pairs=${PAIRS:-5}
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
c=() b=()
for ((i = 1; i <= pairs; i++)); do
	if [ -n "$base" ]; then
		out=$("$base" 3) || exit 1
		echo "base: $out"
		b+=("$(echo "$out" | sed -n 's/.*cpu \([0-9.]*\) ns.*/\1/p')")
	fi
	out=$("$cand" 3) || exit 1
	echo "this: $out"
	c+=("$(echo "$out" | sed -n 's/.*cpu \([0-9.]*\) ns.*/\1/p')")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mc=$(median "${c[@]}")
echo "this build: median cpu $mc ns/insert over $pairs runs"
if [ -n "$base" ]; then
	mb=$(median "${b[@]}")
	echo "base build: median cpu $mb ns/insert over $pairs runs; ratio this/base $(awk -v a="$mc" -v b="$mb" 'BEGIN { printf "%.3f", a / b }')"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
