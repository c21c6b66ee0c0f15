#!/usr/bin/env bash
# bench/heap_run.sh - the heap profiler's cost, side by side with heaptrack,
# gperftools' heap profiler, tcmalloc's sampler and no profiler, in one run,
# reported as ratios of medians. `make bench` runs it after bench/run.sh;
# `make bench-heap` runs it alone.
#
# Workloads:
#   1t, 2t  bench_heap with 1 and 2 threads: malloc+free pairs of 16-512
#           bytes under a working set of live blocks, at varied call depths.
#           It times its own loop and prints ns per pair and throughput.
#   xml     xmllint --noout on a generated 4.6 MB XML file given 8 times
#           (libxml2 builds each document's whole tree, ~600,000 mallocs,
#           then frees it: ~0.8 s of CPU, so the steady state dominates the
#           fixed start-up and exit costs; the profile's writing at exit is
#           reported separately, from the runtime's CPROF_REPORT line).
# Configurations (baseline in brackets):
#   glibc            no profiler, glibc malloc
#   cprof-off        LD_PRELOAD=libcprof.so, no profile asked (the wrappers' floor)      [glibc]
#   cprof            LD_PRELOAD=libcprof.so CPROF_MEMPROFILE=F (default rate, 512 KiB)  [glibc]
#   cprof-rate1      the same with CPROF_MEM_RATE=1 (every allocation)                  [glibc]
#   heaptrack        heaptrack -o F command (its CLI: preload library, FIFO,
#                    heaptrack_interpret and the compressor as separate processes)      [glibc]
#   tcmalloc         LD_PRELOAD=libtcmalloc.so.4, no profiler
#   tcmalloc-sample  the same with TCMALLOC_SAMPLE_PARAMETER=524288 (tcmalloc's
#                    sampler, what MallocExtension's heap sample reads)                 [tcmalloc]
#   cprof-tcmalloc   LD_PRELOAD="libcprof.so libtcmalloc.so.4" CPROF_MEMPROFILE=F: cprof's
#                    default rate over tcmalloc, against tcmalloc's own sampler          [tcmalloc]
#   gperf-heapprof   LD_PRELOAD=libtcmalloc.so.4 HEAPPROFILE=F (gperftools' heap
#                    profiler, every allocation)                                          [tcmalloc]
#   cprof-cpu        xml only: LD_PRELOAD=libcprof.so CPROF_CPUPROFILE=F: a CPU profile
#                    written at exit by a program that has just freed a large tree
#                    (what the runtime's private arena is for)                          [glibc]
# With CPROF_HEAP_BENCH_BEFORE=/path/to/an/older/libcprof.so, xml also runs
# cprof-before and cprof-cpu-before: the same two with that library, for a
# before/after comparison in the same run.
# The slow profilers do fewer pairs in bench_heap (the figures are per pair);
# the xml workload is the same for all.
#
# Every run is one command timed by bench_runner -r (wait4: wall, user, sys
# and the largest resident set among the process and what it waited for).
# Rounds are interleaved: each round runs every configuration once, starting
# at a different one each round. Figures are medians over the rounds;
# overhead = median(configuration) / median(baseline) - 1.
#
# Output: markdown tables on stdout, also written to BUILD/bench/heap_results.md
# and appended to APPEND_TO when given (bench/run.sh passes its results.md).
# Exit status 1 when a run fails, a profiler leaves no profile, or a cprof
# profile cannot be read by go tool pprof. Timing is printed, never judged
# here: the goal column says whether a figure met its goal.
#
# Usage: bench/heap_run.sh BUILD_DIR [APPEND_TO]
#   CPROF_HEAP_BENCH_N=9          rounds
#   CPROF_HEAP_BENCH_NS=5         rounds that include heaptrack and HEAPPROFILE (the
#                                 first NS; they are 10-700x slower than the others)
#   CPROF_BENCH_QUICK=1           3 rounds, shorter workloads (checks the script)
#   CPROF_HEAP_BENCH_ONLY=RE      only the configurations whose name matches RE
#                                 (grep -E); baselines are always run
set -u
B=${1:?usage: bench/heap_run.sh BUILD_DIR [APPEND_TO]}
append=${2:-}
N=${CPROF_HEAP_BENCH_N:-9}
NS=${CPROF_HEAP_BENCH_NS:-5} # rounds of the slow profilers (heaptrack, HEAPPROFILE)
ONLY=${CPROF_HEAP_BENCH_ONLY:-}
# Pairs per thread: fast configurations, cprof at rate 1, heaptrack, HEAPPROFILE.
# xmllint parses the document XML_REPEAT times in one run (XML_REPEAT_SLOW with heaptrack and HEAPPROFILE).
NP=5000000 NP1=2000000 NPH=500000 NPG=50000 XML_ITEMS=40000 XML_REPEAT=8 XML_REPEAT_SLOW=1
if [ "${CPROF_BENCH_QUICK:-}" = 1 ]; then
	N=${CPROF_HEAP_BENCH_N:-3} NS=${CPROF_HEAP_BENCH_NS:-3} NP=500000 NP1=200000 NPH=50000 NPG=5000 XML_ITEMS=5000
	XML_REPEAT=2
fi

runner=$B/bench/bench_runner
heap=$B/bench/bench_heap
libcprof=$B/lib/libcprof.so
for f in "$runner" "$heap" "$libcprof"; do
	[ -f "$f" ] || { echo "heap bench: $f is missing: run make bench" >&2; exit 1; }
done
libtcmalloc=
for f in /usr/lib/x86_64-linux-gnu/libtcmalloc.so.4 /usr/lib/*/libtcmalloc.so.4 /usr/lib64/libtcmalloc.so.4; do
	[ -e "$f" ] && { libtcmalloc=$f; break; }
done
[ -n "$libtcmalloc" ] || { echo "heap bench: libtcmalloc.so.4 not found: scripts/deps.sh bench installs it" >&2; exit 1; }
for c in heaptrack xmllint go; do
	command -v $c >/dev/null 2>&1 || { echo "heap bench: $c is missing: scripts/deps.sh bench installs it" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cprof-heap-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/p" "$tmp/err" "$tmp/out"
report=$tmp/report
: >"$report"
runs=$tmp/runs.tsv
: >"$runs"
failed=0

# The real program's input: a catalogue of items, deterministic.
xml=$tmp/catalog.xml
awk -v n="$XML_ITEMS" 'BEGIN {
	print "<?xml version=\"1.0\"?>"; print "<catalog>"
	for (i = 0; i < n; i++) {
		printf "<item id=\"%d\" group=\"g%d\"><name>item-%d</name><tags>", i, (i * 7919) % 97, i
		for (j = 0; j < i % 5; j++) printf "<tag>t%d</tag>", j
		printf "</tags><score>%d</score></item>\n", (i * 31) % 1000
	}
	print "</catalog>"
}' >"$xml"

# ---- configurations: workload, name, baseline, command, environment ----
# @P@ in the command or the environment becomes the run's profile path.
cp_env="LD_PRELOAD=$libcprof CPROF_MEMPROFILE=@P@ CPROF_REPORT=$report"
C_WL=() C_NAME=() C_BASE=() C_CMD=() C_ENV=()
add() { # workload name baseline command environment
	case $2 in glibc | tcmalloc) ;; *) [ -n "$ONLY" ] && ! grep -qE "$ONLY" <<<"$2" && return ;; esac
	C_WL+=("$1") C_NAME+=("$2") C_BASE+=("$3") C_CMD+=("$4") C_ENV+=("$5")
}
for wl in 1t 2t xml; do
	if [ $wl = xml ]; then
		w() { # pairs: the slow profilers' count asks for fewer repetitions
			local k=$XML_REPEAT f=""
			[ "$1" = $NPH ] || [ "$1" = $NPG ] && k=$XML_REPEAT_SLOW
			for ((; k > 0; k--)); do f+=" $xml"; done
			echo "xmllint --noout$f"
		}
	else
		w() { echo "$heap -t ${wl%t} -n $1"; }
	fi
	add $wl glibc - "$(w $NP)" ""
	add $wl cprof-off glibc "$(w $NP)" "LD_PRELOAD=$libcprof"
	add $wl cprof glibc "$(w $NP)" "$cp_env"
	add $wl cprof-rate1 glibc "$(w $NP1)" "$cp_env CPROF_MEM_RATE=1"
	add $wl heaptrack glibc "heaptrack -o @P@ $(w $NPH)" ""
	add $wl tcmalloc - "$(w $NP)" "LD_PRELOAD=$libtcmalloc"
	add $wl tcmalloc-sample tcmalloc "$(w $NP)" "LD_PRELOAD=$libtcmalloc TCMALLOC_SAMPLE_PARAMETER=524288"
	add $wl cprof-tcmalloc tcmalloc "$(w $NP)" "${cp_env/LD_PRELOAD=$libcprof/LD_PRELOAD=$libcprof:$libtcmalloc}"
	add $wl gperf-heapprof tcmalloc "$(w $NPG)" "LD_PRELOAD=$libtcmalloc HEAPPROFILE=@P@"
	if [ $wl = xml ]; then
		add $wl cprof-cpu glibc "$(w $NP)" "LD_PRELOAD=$libcprof CPROF_CPUPROFILE=@P@ CPROF_REPORT=$report"
		if [ -n "${CPROF_HEAP_BENCH_BEFORE:-}" ]; then
			add $wl cprof-before glibc "$(w $NP)" "${cp_env/LD_PRELOAD=$libcprof/LD_PRELOAD=$CPROF_HEAP_BENCH_BEFORE}"
			add $wl cprof-cpu-before glibc "$(w $NP)" "LD_PRELOAD=$CPROF_HEAP_BENCH_BEFORE CPROF_CPUPROFILE=@P@ CPROF_REPORT=$report"
		fi
	fi
done
nconf=${#C_WL[@]}

# The profile a configuration leaves, given its @P@ path (empty: none expected).
profile_of() { # name path
	case $1 in
	cprof*) echo "$2" ;;
	heaptrack) ls "$2".zst "$2".gz 2>/dev/null | head -n 1 ;;
	gperf-heapprof) ls "$2".*.heap 2>/dev/null | tail -n 1 ;;
	esac
}

run_one() { # index round
	local i=$1 r=$2 id envs=() e cmd line prof=""
	id=${C_WL[$i]}.${C_NAME[$i]}.$r
	local p=$tmp/p/$id
	for e in ${C_ENV[$i]}; do envs+=("${e//@P@/$p}"); done
	cmd=${C_CMD[$i]//@P@/$p}
	# shellcheck disable=SC2086
	if ! line=$(cd "$tmp" && "$runner" -r -e "$tmp/err/$id" -o "$tmp/out/$id" "${envs[@]}" -- $cmd); then
		echo "heap bench: ${C_WL[$i]} ${C_NAME[$i]} round $r failed:" >&2
		sed 's/^/  /' "$tmp/err/$id" | head -n 20 >&2
		failed=1
		return
	fi
	case ${C_NAME[$i]} in
	glibc | tcmalloc | tcmalloc-sample | cprof-off) ;;
	*)
		prof=$(profile_of "${C_NAME[$i]}" "$p")
		if [ -z "$prof" ] || [ ! -s "$prof" ]; then
			echo "heap bench: ${C_WL[$i]} ${C_NAME[$i]} round $r left no profile ($p)" >&2
			failed=1
			return
		fi
		;;
	esac
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "${C_WL[$i]}" "${C_NAME[$i]}" "$r" "$(tr ' ' '\t' <<<"$line")" \
		"$tmp/out/$id" "$prof" >>"$runs"
}

start=$SECONDS
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 1; r <= N; r++)); do
	echo "heap bench: round $r/$N" >&2
	for ((j = 0; j < nconf; j++)); do
		i=$(((j + r - 1) % nconf))
		case ${C_NAME[$i]} in heaptrack | gperf-heapprof) [ "$r" -gt "$NS" ] && continue ;; esac
		run_one "$i" "$r"
	done
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)
took=$((SECONDS - start))

# ---- read every cprof profile back ----
# go tool pprof -raw: the totals of alloc_objects and alloc_space, all
# samples and those under bench_heap's workload functions.
profile_totals() { # binary profile
	go tool pprof -raw "$1" "$2" 2>/dev/null | awk '
		/^Samples:/ { sec = "h"; next }
		sec == "h" { for (i = 1; i <= NF; i++) { t = $i; sub(/\/.*/, "", t); col[t] = i }; sec = "s"; next }
		/^Locations/ { sec = "l"; next }
		/^Mappings/ { sec = "m"; next }
		sec == "s" && /^ *[0-9]+ / && /:/ {
			n++; ao[n] = $col["alloc_objects"]; as[n] = $col["alloc_space"]
			s = $0; sub(/^[^:]*: */, "", s); stk[n] = s; next
		}
		sec == "l" && $1 ~ /^[0-9]+:$/ { id = substr($1, 1, length($1) - 1); f = $4 }
		sec == "l" && $1 !~ /^[0-9]+:$/ && NF > 0 { f = $1 }
		sec == "l" && (f == "replace_even" || f == "replace_odd" || f == "fill") { wk[id] = 1 }
		END {
			if (n == 0 || !("alloc_objects" in col)) { print "- - - -"; exit }
			for (i = 1; i <= n; i++) {
				o += ao[i]; b += as[i]
				k = split(stk[i], ids, " ")
				for (j = 1; j <= k; j++) if (ids[j] in wk) { wo += ao[i]; wb += as[i]; break }
			}
			printf "%.0f %.0f %.0f %.0f\n", o, b, wo, wb
		}'
}

full=$tmp/full.tsv
: >"$full"
while IFS=$'\t' read -r wl cfg r wall user sys rss out prof; do
	# bench_heap's own line: allocs bytes ns_per_pair cpu_ns_per_pair mpairs_per_s
	hs="- - - - -"
	if [ "$wl" != xml ]; then
		hs=$(awk '/^threads=/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
			END { print v["allocs"], v["bytes"], v["ns_per_pair"], v["cpu_ns_per_pair"], v["mpairs_per_s"] }' "$out")
	fi
	pt="- - - -" meta="- -"
	case $cfg in
	cprof-off) ;;
	cprof-cpu*)
		if ! go tool pprof -raw "$(command -v xmllint)" "$prof" >/dev/null 2>&1; then
			echo "heap bench: $wl $cfg round $r: go tool pprof cannot read $prof" >&2
			failed=1
		fi
		;;
	cprof*)
		bin=$heap
		[ "$wl" = xml ] && bin=$(command -v xmllint)
		pt=$(profile_totals "$bin" "$prof")
		if [ "${pt%% *}" = - ]; then
			echo "heap bench: $wl $cfg round $r: go tool pprof cannot read $prof or it has no samples" >&2
			failed=1
		fi
		# What the runtime says its heap profiler used (bytes of its own memory),
		# and the CPU time writing the profile at exit took.
		meta=$(awk -F'\t' -v p="$prof" '$3 == p {
			n = split($4, kv, " "); own = "-"; w = "-"
			for (i = 1; i <= n; i++) {
				split(kv[i], x, "=")
				if (x[1] == "own_bytes") own = x[2]
				if (x[1] == "write_cpu_ns") w = x[2]
			}
			print own, w; exit
		}' "$report")
		[ -n "$meta" ] || meta="- -"
		;;
	esac
	size=-
	[ -n "$prof" ] && size=$(stat -c %s "$prof")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$wl" "$cfg" "$r" "$wall" "$user" "$sys" "$rss" \
		"$(tr ' ' '\t' <<<"$hs")" "$(tr ' ' '\t' <<<"$pt")" "${meta%% *}" "$size	${meta##* }" >>"$full"
done <"$runs"

# ---- the report: reads full.tsv, prints markdown ----
# Fields: 1 workload, 2 configuration, 3 round, 4 wall ns, 5 user ns, 6 sys ns,
# 7 max RSS KiB, 8 allocs, 9 bytes, 10 ns/pair, 11 CPU ns/pair, 12 M pairs/s,
# 13 profile alloc_objects, 14 alloc_space, 15 workload alloc_objects,
# 16 workload alloc_space, 17 runtime's own memory (bytes), 18 profile size (bytes),
# 19 CPU time the runtime took to write the heap profile at exit (ns).
report_awk=$(cat <<'EOF'
function push(arr, k, v) { if (v == "-" || v == "") return; arr[k] = (k in arr) ? arr[k] " " v : v }
function sorted(s, a,    n, i, j, t) {
	n = split(s, a, " ")
	for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return n
}
function med(s,    a, n) { n = sorted(s, a); if (n == 0) return 0; return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
function mn(s,    a) { sorted(s, a); return a[1] }
function mx(s,    a, n) { n = sorted(s, a); return a[n] }
function pct(x) { return sprintf("%+.1f %%", 100 * x) }
function spread(s,    a, n) { n = sorted(s, a); return n < 2 ? 0 : (a[n] - a[1]) / 2 / med(s) }
{
	k = $1 SUBSEP $2
	if (!(k in SEEN)) { SEEN[k] = 1; ORDER[++no] = k; BASE[k] = $2 }
	push(WALL, k, $4); push(CPU, k, $5 + $6); push(RSS, k, $7)
	push(NSP, k, $10); push(CNSP, k, $11); push(TPUT, k, $12)
	ALLOCS[k] = $8; BYTES[k] = $9
	if ($13 != "-") { push(PAO, k, $13 / $8); push(PAS, k, $14 / $9); push(WAO, k, $15 / $8); push(WAS, k, $16 / $9); push(PROF_AO, k, $13) }
	push(META, k, $17); push(SIZE, k, $18); push(WCPU, k, $19)
	RUNS[k]++
}
END {
	wname["1t"] = "bench_heap, 1 thread"; wname["2t"] = "bench_heap, 2 threads"; wname["xml"] = "xmllint --noout"

	print "### 1. bench_heap: time per malloc+free pair, ratio of medians to the baseline allocator"
	print ""
	print "CPU ns per pair = the workload threads' CPU time (CLOCK_THREAD_CPUTIME_ID) over the timed loop / all pairs: what the"
	print "program's own threads pay, not moved by other jobs on the machine (it leaves out time a thread sleeps, and work done"
	print "in other processes, e.g. heaptrack_interpret). Wall ns per pair = the timed loop's wall time / pairs per thread (with 2"
	print "threads each does that many pairs). Throughput = all threads' pairs per wall second. Ratios are of medians. Goals for"
	print "cprof: at most 5 % slower at the default rate; at most 150 ns per pair at rate 1 (1 thread), judged on both figures."
	print ""
	print "| workload | configuration | baseline | pairs per thread | CPU ns per pair | vs baseline | wall ns per pair | vs baseline | throughput (M pairs/s) | runs | goal |"
	print "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|"
	for (o = 1; o <= no; o++) {
		k = ORDER[o]; split(k, kk, SUBSEP); wl = kk[1]; c = kk[2]
		if (wl == "xml") continue
		b = base[c]; bk = wl SUBSEP b
		ns = med(NSP[k]); cns = med(CNSP[k]); wx = cx = 0
		if (b != "-" && (bk in NSP)) {
			wx = ns / med(NSP[bk]); cx = cns / med(CNSP[bk])
			wr = sprintf("%.2fx (%s)", wx, pct(wx - 1)); cr = sprintf("%.2fx (%s)", cx, pct(cx - 1))
		} else { wr = "-"; cr = "-" }
		g = ""
		if (c == "cprof" && wx > 0) g = sprintf("<= +5 %%: CPU %s, wall %s", cx - 1 <= 0.05 ? "met" : "MISSED", wx - 1 <= 0.05 ? "met" : "MISSED")
		if (c == "cprof-rate1" && wl == "1t") g = sprintf("<= 150 ns: CPU %s, wall %s", cns <= 150 ? "met" : "MISSED", ns <= 150 ? "met" : "MISSED")
		printf "| %s | %s | %s | %d | %.1f | %s | %.1f | %s | %.2f | %d | %s |\n", wname[wl], c, b, PAIRS[wl, c], cns, cr, ns, wr, med(TPUT[k]), RUNS[k], g
	}
	print ""
	for (o = 1; o <= no; o++) {
		k = ORDER[o]; split(k, kk, SUBSEP)
		if (kk[2] == "glibc" && kk[1] != "xml")
			printf "Spread of the %s glibc baseline ((max - min) / 2 / median): CPU ns per pair %.1f %%, wall ns per pair %.1f %%.\n", \
				wname[kk[1]], 100 * spread(CNSP[k]), 100 * spread(NSP[k])
	}
	print ""

	print "### 2. bench_heap: throughput from 1 to 2 threads"
	print ""
	print "Wall scaling = median throughput with 2 threads / median with 1 thread (2 is perfect); it needs both CPUs free, so"
	print "the baseline allocators' own wall scaling is the ceiling this run could show. CPU scaling = 2 x CPU ns per pair with"
	print "1 thread / CPU ns per pair with 2 threads: what the threads' contention costs (cache lines, spinning), not moved by"
	print "other jobs, blind to time spent asleep on a lock. Goal for cprof at rate 1: at least 1.7x."
	print ""
	print "| configuration | 1 thread (M pairs/s) | 2 threads (M pairs/s) | wall scaling | CPU scaling | goal |"
	print "|---|---:|---:|---:|---:|---|"
	for (o = 1; o <= no; o++) {
		k = ORDER[o]; split(k, kk, SUBSEP); c = kk[2]; k2 = "2t" SUBSEP c
		if (kk[1] != "1t" || !(k2 in TPUT)) continue
		t1 = med(TPUT[k]); t2 = med(TPUT[k2]); cs = 2 * med(CNSP[k]) / med(CNSP[k2])
		g = c == "cprof-rate1" ? sprintf(">= 1.7x: wall %s, CPU %s", t2 / t1 >= 1.7 ? "met" : "MISSED", cs >= 1.7 ? "met" : "MISSED") : ""
		printf "| %s | %.2f | %.2f | %.2fx | %.2fx | %s |\n", c, t1, t2, t2 / t1, cs, g
	}
	print ""

	print "### 3. xmllint --noout (a real program): run time, ratio of medians to the baseline allocator"
	print ""
	print "Wall and CPU (user+sys) of the whole process, and of what it waited for (heaptrack: its interpreter and compressor),"
	print "divided by the documents it parsed (a run parses the same document several times, fewer with the slow profilers)."
	print "cprof-cpu: a CPU profile (100 Hz) instead of a heap profile, written at exit right after xmllint freed its tree."
	print "Written at exit: the CPU time the runtime reports (CPROF_REPORT) for building, symbolizing and writing the heap"
	print "profile when the program exits, median: a fixed cost, part of the CPU column. Heaptrack and HEAPPROFILE parse the"
	print "document fewer times (see the command); compare their ratios, not their times."
	print "Goal for cprof: at most 5 % slower at the default rate."
	print ""
	print "| configuration | baseline | documents | wall per document | vs baseline | CPU per document | vs baseline | written at exit (CPU) | runs | goal |"
	print "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"
	for (o = 1; o <= no; o++) {
		k = ORDER[o]; split(k, kk, SUBSEP); c = kk[2]
		if (kk[1] != "xml") continue
		b = base[c]; bk = "xml" SUBSEP b
		wm = med(WALL[k]) / DOCS[c]; cm = med(CPU[k]) / DOCS[c]
		if (b == "-" || !(bk in WALL)) { wr = "-"; cr = "-"; g = "" }
		else {
			wx = wm / (med(WALL[bk]) / DOCS[b]); cx = cm / (med(CPU[bk]) / DOCS[b])
			wr = sprintf("%.2fx (%s)", wx, pct(wx - 1)); cr = sprintf("%.2fx (%s)", cx, pct(cx - 1))
			g = c == "cprof" ? sprintf("<= +5 %%: wall %s, CPU %s", wx - 1 <= 0.05 ? "met" : "MISSED", cx - 1 <= 0.05 ? "met" : "MISSED") : ""
		}
		wc = (k in WCPU) ? sprintf("%.1f ms", med(WCPU[k]) / 1e6) : "-"
		printf "| %s | %s | %d | %.1f ms | %s | %.1f ms | %s | %s | %d | %s |\n", c, b, DOCS[c], wm / 1e6, wr, cm / 1e6, cr, wc, RUNS[k], g
	}
	print ""

	print "### 4. Memory: peak resident set, and what the profiler itself used"
	print ""
	print "max RSS = median of wait4's ru_maxrss: the largest resident set among the process and the processes it waited for"
	print "(for heaptrack that can be heaptrack_interpret). Over baseline = that minus the baseline allocator's. cprof's own ="
	print "the bytes of memory the cprof runtime reports its heap profiler used (CPROF_REPORT), median. Profile = the size of the"
	print "file the profiler wrote (heaptrack: its compressed trace; gperftools: the last .heap dump), median."
	print ""
	print "| workload | configuration | max RSS | over baseline | cprof's own (runtime report) | profile |"
	print "|---|---|---:|---:|---:|---:|"
	for (o = 1; o <= no; o++) {
		k = ORDER[o]; split(k, kk, SUBSEP); wl = kk[1]; c = kk[2]
		b = base[c]; bk = wl SUBSEP b
		d = (b != "-" && (bk in RSS)) ? sprintf("%+.1f MB", (med(RSS[k]) - med(RSS[bk])) / 1024) : "-"
		m = (k in META) ? sprintf("%.2f MB", med(META[k]) / 1048576) : "-"
		sz = (k in SIZE) ? sprintf("%.0f KB", med(SIZE[k]) / 1024) : "-"
		printf "| %s | %s | %.1f MB | %s | %s | %s |\n", wname[wl], c, med(RSS[k]) / 1024, d, m, sz
	}
	print ""

	print "### 5. cprof's profiles read back (go tool pprof -raw)"
	print ""
	print "alloc_objects and alloc_space of the samples under bench_heap's allocating functions (fill, replace_even, replace_odd),"
	print "divided by the exact count and bytes the workload printed; median [min - max] over the runs. At rate 1 both must"
	print "be 1.0000 exactly; at the default rate alloc_space is an unbiased estimate. xmllint: alloc_objects in the profile."
	print ""
	print "| workload | configuration | workload alloc_objects, profile / true | workload alloc_space, profile / true | all alloc_objects in the profile |"
	print "|---|---|---|---|---:|"
	for (o = 1; o <= no; o++) {
		k = ORDER[o]; split(k, kk, SUBSEP); wl = kk[1]; c = kk[2]
		if (!(k in PROF_AO)) continue
		if (wl == "xml") { printf "| %s | %s | - | - | %.0f |\n", wname[wl], c, med(PROF_AO[k]); continue }
		printf "| %s | %s | %.4f [%.4f - %.4f] | %.4f [%.4f - %.4f] | %.0f |\n", wname[wl], c, med(WAO[k]), mn(WAO[k]), mx(WAO[k]), \
			med(WAS[k]), mn(WAS[k]), mx(WAS[k]), med(PROF_AO[k])
	}
}
EOF
)

# Pairs per thread and baseline of each configuration, for the tables.
pairs_awk=""
for ((i = 0; i < nconf; i++)); do
	pairs_awk+="base[\"${C_NAME[$i]}\"] = \"${C_BASE[$i]}\"; "
	if [ "${C_WL[$i]}" = xml ]; then # documents parsed in one run
		n=$(grep -o -F "$xml" <<<"${C_CMD[$i]}" | wc -l)
		pairs_awk+="DOCS[\"${C_NAME[$i]}\"] = $n; "
		continue
	fi
	n=$(sed -n 's/.* -n \([0-9]*\).*/\1/p' <<<"${C_CMD[$i]}")
	pairs_awk+="PAIRS[\"${C_WL[$i]}\", \"${C_NAME[$i]}\"] = $n; "
done

cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
out=$tmp/heap.md
{
	echo "## Heap profiler: cprof vs heaptrack vs gperftools vs tcmalloc's sampler vs no profiler"
	echo
	echo "- command: \`bench/heap_run.sh $B\` (part of \`make bench\`; \`make bench-heap\` alone), $N interleaved rounds" \
		"(heaptrack and gperf-heapprof in the first $NS)"
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); run took $took s"
	echo "- machine: $cpu_model, $(nproc) CPUs, Linux $(uname -r), load average $load0 before, $load1 after"
	echo "- glibc $(ldd --version | head -n 1 | awk '{ print $NF }'), heaptrack $(dpkg-query -W -f '${Version}' heaptrack 2>/dev/null || echo unknown)," \
		"gperftools $(dpkg-query -W -f '${Version}' libgoogle-perftools4 2>/dev/null || echo unknown) ($libtcmalloc)," \
		"libxml2 $(dpkg-query -W -f '${Version}' libxml2 2>/dev/null || echo unknown), $(go version | cut -d' ' -f3) pprof"
	echo "- workloads: bench_heap (16-512 B malloc+free pairs, 4096 live blocks per thread, call depth 2-17, built -O2" \
		"-fomit-frame-pointer); xmllint --noout on a $(($(stat -c %s "$xml") / 1024)) KiB XML file of $XML_ITEMS items," \
		"given $XML_REPEAT times ($XML_REPEAT_SLOW with heaptrack and gperf-heapprof)"
	echo
	awk -F'\t' "BEGIN { $pairs_awk } $report_awk" "$full"
} >"$out"
cat "$out"
cp "$out" "$B/bench/heap_results.md"
[ -n "$append" ] && { echo; cat "$out"; } >>"$append"
echo "heap bench: results also in $B/bench/heap_results.md" >&2
if [ "$failed" != 0 ]; then
	echo "heap bench: FAILED: some runs failed or left no profile (see above)" >&2
	exit 1
fi
