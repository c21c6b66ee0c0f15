#!/usr/bin/env bash
# bench/webui_bench.sh - the web UI's speed, measured in the browser:
# `cprof pprof -http` and `go tool pprof -http` side by side on profiles of
# 1,000, 100,000 and 1,000,000 distinct stacks (bench_bigprof, ten samples
# a stack), in headless Chromium through playwright-core (tests/web).
# `make bench` runs it after bench/run.sh.
#
# Both servers run at once and their pages are interleaved, a cprof page
# then a go page each round, each in a fresh headless browser. For cprof,
# tests/web/bench.mjs reads the page's own performance.now() marks: first
# draw = navigation start to the flame graph drawn on its canvas (server
# work, transfer, decoding, drawing); zoom = from each of six clicks on
# frames to the redraw, including the fetch of the frames the zoom shows
# that the first answer left out. Round 0 asks for ?si=cpu, options the
# server has no tree for yet (it builds the default one as it starts, which
# the script waits for first); rounds 1..N the default page. For go tool pprof (Go 1.19's d3 flame
# graph, SVG), first draw = navigation start to the chart having frames;
# its zoom is an animated transition, not timed. Server CPU: user+system
# time of each server process over its whole run (start and every page).
#
# Output: a markdown table on stdout, also appended to BUILD/bench/results.md
# when that file exists. Timing is printed, never judged: the goals column
# says met/missed (first draw < 1 s and zoom < 100 ms on 100,000 stacks).
#
# Usage: bench/webui_bench.sh BUILD_DIR
#   CPROF_WEBUI_BENCH_N=4      rounds per tool and profile
#   CPROF_BENCH_QUICK=1        2 rounds, the 1,000,000-stack profile left out
#   CPROF_WEBUI_BENCH_GO_TIMEOUT=180   seconds go tool pprof may take to load a
#                              profile, and a page (it runs two rounds)
#   CPROF_WEBUI_BENCH_BEFORE=OLD_CPROF  first, the server alone: OLD_CPROF (an
#                              earlier build) and this one side by side, CPU,
#                              wall and bytes per flame request with new options
#   CPROF_WEBUI_BENCH_SERVER_ONLY=1     with BEFORE: only that part
set -u
B=${1:?usage: bench/webui_bench.sh BUILD_DIR}
top=$(cd "$(dirname "$0")/.." && pwd)
N=${CPROF_WEBUI_BENCH_N:-4}
sizes="1000 100000 1000000"
if [ "${CPROF_BENCH_QUICK:-}" = 1 ]; then
	N=2 sizes="1000 100000"
fi
gotimeout=${CPROF_WEBUI_BENCH_GO_TIMEOUT:-180}
GN=$((N < 2 ? N : 2)) # go tool pprof takes seconds a page: two rounds (rounds 1 and 2)
cprof=$B/bin/cprof gen=$B/bench/bench_bigprof web=$top/tests/web
for f in "$cprof" "$gen"; do
	[ -x "$f" ] || { echo "webui_bench: $f is missing: run make bench" >&2; exit 1; }
done
for c in node go /usr/bin/chromium; do
	command -v "$c" >/dev/null 2>&1 || { echo "webui_bench: $c is missing: scripts/deps.sh test installs it" >&2; exit 1; }
done
if [ ! -d "$web/node_modules/playwright-core" ]; then
	(cd "$web" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >&2) || exit 1
fi
gopprof=$(go env GOTOOLDIR)/pprof

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cprof-webui-bench.XXXXXX")
cpid="" gpid=""
cleanup() {
	for p in $cpid $gpid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
export HOME=$tmp/home PPROF_TMPDIR=$tmp/pprof
mkdir -p "$HOME" "$PPROF_TMPDIR"

# start NAME CMD...: run a server in the background (pid in started), wait for
# "Serving web UI on URL" (stdout or stderr), set url; 1 if it did not come.
start() {
	local name=$1 i
	shift
	"$@" >"$tmp/$name.log" 2>&1 &
	started=$!
	url=""
	for i in $(seq 1 "$((gotimeout * 10))"); do
		url=$(sed -n 's/.*Serving web UI on \(http[^ ]*\).*/\1/p' "$tmp/$name.log" | head -1)
		[ -n "$url" ] && return 0
		kill -0 "$started" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}
stop() {
	[ -n "$1" ] && kill "$1" 2>/dev/null && wait "$1" 2>/dev/null
}
# cpu PID: the process's user+system CPU time so far, in ms
cpu() { awk -v t="$(getconf CLK_TCK)" '{ printf "%d\n", ($14 + $15) * 1000 / t }' "/proc/$1/stat" 2>/dev/null; }

# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit } print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }

# serve_cmp BIN PROFILE PORTLOG: start BIN's server, wait for it, then time five
# /ui/data/flame requests with options it has not seen; prints "cpu_ms wall_ms bytes" per request.
serve_cmp() {
	local bin=$1 prof=$2 pid u0 u1 t0 t1 b=0 i
	start cmp "$bin" pprof -http=127.0.0.1:0 -no_browser "$prof" || { echo "nan nan nan"; return; }
	pid=$started
	curl -s -o /dev/null --max-time 900 "$url/ui/data/meta" # past its start
	u0=$(cpu "$pid")
	t0=$(date +%s%N)
	for i in 1 2 3 4 5; do
		b=$(curl -s -o /dev/null --max-time 900 -w '%{size_download}' "$url/ui/data/flame?fw=1280&x=$i")
	done
	t1=$(date +%s%N)
	u1=$(cpu "$pid")
	stop "$pid"
	echo "$(((u1 - u0) / 5)) $(((t1 - t0) / 5000000)) $b"
}

# CPROF_WEBUI_BENCH_BEFORE=OLD_CPROF: the server alone, OLD_CPROF and this
# cprof interleaved, per flame graph request with new options.
if [ -n "${CPROF_WEBUI_BENCH_BEFORE:-}" ]; then
	echo "### cprof pprof -http's server, per /ui/data/flame request with new options: before ($CPROF_WEBUI_BENCH_BEFORE) and now ($N rounds, medians; load $(cut -d' ' -f1 /proc/loadavg) at the start)"
	echo
	echo "| stacks | CPU before | CPU now | now / before | wall before | wall now | bytes before | bytes now |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
	for s in ${sizes#1000 }; do
		p=$tmp/s$s.pb.gz
		"$gen" -n $((s * 10)) -s "$s" 2>/dev/null | gzip -1 >"$p" || exit 1
		: >"$tmp/old.txt"
		: >"$tmp/new.txt"
		for r in $(seq 1 "$N"); do
			serve_cmp "$CPROF_WEBUI_BENCH_BEFORE" "$p" >>"$tmp/old.txt"
			serve_cmp "$cprof" "$p" >>"$tmp/new.txt"
		done
		co=$(cut -d' ' -f1 "$tmp/old.txt" | median) cn=$(cut -d' ' -f1 "$tmp/new.txt" | median)
		wo=$(cut -d' ' -f2 "$tmp/old.txt" | median) wn=$(cut -d' ' -f2 "$tmp/new.txt" | median)
		bo=$(cut -d' ' -f3 "$tmp/old.txt" | median) bn=$(cut -d' ' -f3 "$tmp/new.txt" | median)
		awk -v s="$s" -v co="$co" -v cn="$cn" -v wo="$wo" -v wn="$wn" -v bo="$bo" -v bn="$bn" 'BEGIN {
			printf "| %d | %.0f ms | %.0f ms | %.2fx | %.0f ms | %.0f ms | %.2f MB | %.2f MB |\n",
				s, co, cn, cn / co, wo, wn, bo / 1048576, bn / 1048576 }'
	done
	echo
	[ "${CPROF_WEBUI_BENCH_SERVER_ONLY:-}" = 1 ] && exit 0
fi

rows=$tmp/rows.md
: >"$rows"
for s in $sizes; do
	p=$tmp/s$s.pb.gz
	"$gen" -n $((s * 10)) -s "$s" 2>"$tmp/gen.err" | gzip -1 >"$p" || { cat "$tmp/gen.err" >&2; exit 1; }
	echo "webui_bench: $(cat "$tmp/gen.err"), $(stat -c %s "$p") bytes gzipped" >&2
	: >"$tmp/c.jsonl"
	: >"$tmp/g.jsonl"
	c_cpu=nan g_cpu=nan g_note="" curl_="" gurl=""
	start cprof "$cprof" pprof -http=127.0.0.1:0 -no_browser "$p" && curl_=$url
	cpid=$started
	if start go timeout "$((gotimeout * 3))" "$gopprof" -http=127.0.0.1: -no_browser "$p"; then
		gurl=$url
	else
		g_note=" (did not start within ${gotimeout} s)"
	fi
	gpid=$started
	# the server builds the default tree as it starts: wait for it (meta waits its turn)
	[ -n "$curl_" ] && curl -s -o /dev/null --max-time 900 "$curl_/ui/data/meta"
	# Interleaved: a cprof page, then a go page, each round (a fresh browser
	# each time). cprof's round 0 asks for ?si=cpu: options whose tree the
	# server has not built yet.
	for r in $(seq 0 "$N"); do
		if [ -n "$curl_" ]; then
			fresh=""
			[ "$r" = 0 ] && fresh='?si=cpu'
			(cd "$web" && timeout 900 node bench.mjs cprof "$curl_" 1 "$fresh") >>"$tmp/c.jsonl" 2>"$tmp/c.err" ||
				echo "webui_bench: cprof on $s stacks: $(tail -2 "$tmp/c.err")" >&2
		fi
		if [ -n "$gurl" ] && [ "$r" -ge 1 ] && [ "$r" -le "$GN" ]; then
			if ! (cd "$web" && timeout "$gotimeout" node bench.mjs go "$gurl" 1) >>"$tmp/g.jsonl" 2>"$tmp/g.err"; then
				g_note=" (gave up after ${gotimeout} s a page)"
				gurl=""
			fi
		fi
	done
	[ -n "$curl_" ] && c_cpu=$(cpu "$cpid")
	gp=$(pgrep -P "$gpid" | head -1)
	[ -n "$gp" ] && g_cpu=$(cpu "$gp")
	stop "$cpid"
	stop "$gpid"
	cpid="" gpid=""
	c_fresh=$(head -1 "$tmp/c.jsonl" | field first)
	c_first=$(tail -n +2 "$tmp/c.jsonl" | field first | median)
	z_med=$(sed -n 's/.*"zoom":\[\([^]]*\)\].*/\1/p' "$tmp/c.jsonl" | tr ',' '\n' | median)
	z_max=$(sed -n 's/.*"zoom":\[\([^]]*\)\].*/\1/p' "$tmp/c.jsonl" | tr ',' '\n' | sort -g | tail -1)
	bytes=$(tail -1 "$tmp/c.jsonl" | field bytes)
	g_first=$(field first <"$tmp/g.jsonl" | median)
	gn=$(grep -c . "$tmp/g.jsonl")
	awk -v s="$s" -v cf="$c_fresh" -v c="$c_first" -v zm="$z_med" -v zx="$z_max" -v b="$bytes" \
		-v g="$g_first" -v gn="$g_note" -v cc="$c_cpu" -v gc="$g_cpu" -v n="$N" -v gnr="$gn" 'BEGIN {
		goal = ""
		if (s == 100000) goal = (c + 0 < 1000 ? "first draw met" : "first draw MISSED") ", " \
			(cf + 0 < 1000 ? "new options met" : "new options MISSED") ", " (zx + 0 < 100 ? "zoom met" : "zoom MISSED")
		ratio = (g == "nan" || c == "nan") ? "-" : sprintf("%.1fx", g / c)
		printf "| %d | %.2f MB | %.0f ms | %.0f ms | %.1f ms / %.1f ms | %s ms (%d pages) | %s%s | %s | %s | %s |\n",
			s, b / 1048576, c, cf, zm, zx, cc, n + 1, (g == "nan" ? "-" : sprintf("%.0f ms", g)), gn,
			(gc == "nan" || gc == "" ? "-" : gc " ms (" gnr " pages)"), ratio, goal
	}' >>"$rows"
done

out=$tmp/table.md
{
	echo "### cprof pprof -http vs go tool pprof -http: flame graph in the browser ($N rounds; $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"
	echo
	echo "| stacks | data sent (first page) | cprof first draw (median) | cprof first draw, new options | cprof zoom (median / max) | cprof server CPU | go first draw (median of $GN) | go server CPU | go / cprof first draw | goals (100k: < 1 s, < 100 ms) |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
	cat "$rows"
	echo
	echo "Profiles: bench_bigprof -n 10xSTACKS -s STACKS. Browser: $(/usr/bin/chromium --version 2>/dev/null | head -1), headless." \
		"go tool pprof = $gopprof ($(go version | awk '{ print $3 }'))."
} >"$out"
cat "$out"
[ -f "$B/bench/results.md" ] && { echo; cat "$out"; } >>"$B/bench/results.md"
exit 0
