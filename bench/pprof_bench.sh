#!/usr/bin/env bash
# bench/pprof_bench.sh - `cprof pprof` against `go tool pprof` on one large
# profile: wall time, CPU time and peak memory, as ratios. `make bench`
# runs it after bench/run.sh.
#
# The profile is bench_bigprof's (1,000,000 CPU samples over 100,000
# distinct stacks 10-40 deep, 3,000 functions, 36,000 locations), gzipped.
# Every report is timed with both tools by bench_runner -r (wait4: wall,
# user+sys, ru_maxrss of the child and what it waited for, e.g. dot),
# stdout to /dev/null. Runs are interleaved: each round runs every
# configuration once, starting at a different one each round. The figures
# are medians over the rounds; speedup = median wall(go) / median wall(cprof),
# memory = median maxrss(cprof) / median maxrss(go).
#
# go tool pprof is run as its own binary ($(go env GOTOOLDIR)/pprof):
# `go tool` would add the go command's start-up (~40 ms) to every go run.
# Before timing, each report's output is compared once (cmp) and the
# result printed: a speedup only counts for identical output.
#
# Output: a markdown table on stdout, also appended to BUILD/bench/results.md
# when that file exists (bench/run.sh writes it). Exit status 1 when a run
# fails. Timing is printed, never judged: the goal column says met/missed.
#
# Usage: bench/pprof_bench.sh BUILD_DIR
#   CPROF_PPROF_BENCH_N=7        rounds
#   CPROF_BENCH_QUICK=1          3 rounds on a 10x smaller profile
#   CPROF_PPROF_BENCH_PROFILE=F  time F instead of the generated profile
set -u
B=${1:?usage: bench/pprof_bench.sh BUILD_DIR}
N=${CPROF_PPROF_BENCH_N:-7}
gen_args=()
if [ "${CPROF_BENCH_QUICK:-}" = 1 ]; then
	N=3 gen_args=(-n 100000 -s 10000 -f 1000)
fi
cprof=$B/bin/cprof runner=$B/bench/bench_runner gen=$B/bench/bench_bigprof
for f in "$cprof" "$runner" "$gen"; do
	[ -x "$f" ] || { echo "pprof_bench: $f is missing: run make bench" >&2; exit 1; }
done
command -v go >/dev/null 2>&1 || { echo "pprof_bench: go is missing: scripts/deps.sh bench installs it" >&2; exit 1; }
gopprof=$(go env GOTOOLDIR)/pprof
[ -x "$gopprof" ] || { echo "pprof_bench: $gopprof is missing (go tool pprof's binary)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cprof-pprof-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home PPROF_TMPDIR=$tmp/pprof
mkdir -p "$HOME" "$PPROF_TMPDIR"

prof=${CPROF_PPROF_BENCH_PROFILE:-}
if [ -z "$prof" ]; then
	prof=$tmp/big.pb.gz
	"$gen" "${gen_args[@]}" 2>"$tmp/gen.err" | gzip -6 >"$prof" || { cat "$tmp/gen.err" >&2; exit 1; }
	echo "pprof_bench: $(cat "$tmp/gen.err"), $(stat -c %s "$prof") bytes gzipped" >&2
fi

# -svg when cprof has it; else -dot (the table says which).
graph=-svg
"$cprof" pprof -svg "$prof" >/dev/null 2>&1 || graph=-dot
reports=(-top -traces "$graph")

# A report cprof rejects (not implemented yet) is listed, not timed.
failed=0
timed=() same=() missing=()
for r in "${reports[@]}"; do
	if ! "$cprof" pprof "$r" "$prof" >"$tmp/ours" 2>"$tmp/err"; then
		missing+=("$r ($(head -1 "$tmp/err" | sed 's/;.*//'))")
		continue
	fi
	"$gopprof" "$r" "$prof" >"$tmp/theirs" 2>/dev/null || { echo "pprof_bench: go tool pprof $r failed" >&2; failed=1; }
	timed+=("$r")
	if [ "$r" = -svg ]; then
		# pprof embeds SVGPan.js, cprof its own script (docs/pprof-differences.md)
		for f in ours theirs; do
			awk '/<script/ { s = 1 } !s { print } /<\/script>/ { s = 0 }' "$tmp/$f" >"$tmp/$f.x"
		done
		if cmp -s "$tmp/ours.x" "$tmp/theirs.x"; then same+=("identical but the script"); else same+=(DIFFERENT); fi
	elif cmp -s "$tmp/ours" "$tmp/theirs"; then
		same+=(identical)
	else
		same+=(DIFFERENT)
	fi
done
rm -f "$tmp/ours" "$tmp/theirs" "$tmp/ours.x" "$tmp/theirs.x"
reports=("${timed[@]}")

runs=$tmp/runs.tsv # report tool wall user sys maxrss
: >"$runs"
cfg=()
for r in "${reports[@]}"; do cfg+=("$r cprof" "$r go"); done
nc=${#cfg[@]}
for ((round = 0; round < N; round++)); do
	echo "pprof_bench: round $((round + 1))/$N" >&2
	for ((k = 0; k < nc; k++)); do
		read -r r tool <<<"${cfg[$(((k + round) % nc))]}"
		if [ "$tool" = cprof ]; then cmd=("$cprof" pprof "$r" "$prof"); else cmd=("$gopprof" "$r" "$prof"); fi
		if ! line=$("$runner" -r -e "$tmp/err" -- "${cmd[@]}"); then
			echo "pprof_bench: $tool $r failed: $(head -c 300 "$tmp/err")" >&2
			failed=1
		fi
		echo "$r $tool $line" >>"$runs"
	done
done

median() { # report tool column(3=wall 4=user 5=sys 6=maxrss 7=user+sys)
	awk -v r="$1" -v t="$2" -v c="$3" '$1 == r && $2 == t { print (c == 7 ? $4 + $5 : $c) }' "$runs" |
		sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

out=$tmp/table.md
{
	echo "### cprof pprof vs go tool pprof ($N rounds, medians; $(nproc) CPUs)"
	echo
	echo "| report | output | cprof wall | go wall | speedup | cprof CPU | go CPU | cprof max RSS | go max RSS | memory | goals (>= 5x, <= 1/3) |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
	i=0
	for r in "${reports[@]}"; do
		cw=$(median "$r" cprof 3) gw=$(median "$r" go 3)
		cc=$(median "$r" cprof 7) gc=$(median "$r" go 7)
		cm=$(median "$r" cprof 6) gm=$(median "$r" go 6)
		awk -v r="$r" -v s="${same[$i]}" -v cw="$cw" -v gw="$gw" -v cc="$cc" -v gc="$gc" -v cm="$cm" -v gm="$gm" 'BEGIN {
			sp = gw / cw; mr = cm / gm
			g1 = sp >= 5 ? "speed met" : "speed MISSED"
			g2 = mr <= 1 / 3 ? "memory met" : "memory MISSED"
			printf "| %s | %s | %.0f ms | %.0f ms | %.1fx | %.0f ms | %.0f ms | %.1f MB | %.1f MB | %.2f | %s, %s |\n",
				r, s, cw / 1e6, gw / 1e6, sp, cc / 1e6, gc / 1e6, cm / 1024, gm / 1024, mr, g1, g2
		}'
		i=$((i + 1))
	done
	echo
	echo "Profile: $(basename "$prof"), $(stat -c %s "$prof") bytes. go tool pprof = $gopprof ($(go version | awk '{ print $3 }'))."
	[ "$graph" = -dot ] && echo "cprof pprof has no -svg yet: the graph row is -dot for both tools."
	for m in "${missing[@]}"; do echo "Not timed: $m."; done
} >"$out"
cat "$out"
[ -f "$B/bench/results.md" ] && { echo; cat "$out"; } >>"$B/bench/results.md"
exit "$failed"
