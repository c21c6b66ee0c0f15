#!/usr/bin/env bash
# bench/run.sh - what `make bench` runs: the CPU profiler's overhead and
# accuracy, side by side with gperftools' libprofiler and no profiler, in
# one run, on one machine, reported as ratios of medians.
#
# Every configuration is one command timed by bench_runner (wait4: the
# child's wall, user and system time). Configurations are interleaved:
# each round runs every configuration once, starting at a different one
# each round, so drift on a shared machine falls on all of them alike.
# Overhead = median(configuration) / median(baseline) - 1.
#
# cprof is measured as the runtime alone (LD_PRELOAD=libcprof.so with the
# CPROF_* variables), not through `cprof run`. gperftools is measured the
# way its manual says: LD_PRELOAD=libprofiler.so CPUPROFILE=...
# Profiles are read back with `go tool pprof -raw`, which reads both
# gperftools' legacy format and profile.proto.
#
# Output: markdown tables on stdout, also written to BUILD/bench/results.md.
# Progress goes to stderr. Exit status 1 when any run fails or any
# profiled run leaves no readable profile. Timing is printed, never judged
# here: the goals column says whether a figure met its goal.
#
# Usage: bench/run.sh BUILD_DIR        (make bench)
#   CPROF_BENCH_N=11      rounds (runs of every configuration)
#   CPROF_BENCH_QUICK=1   3 rounds and shorter workloads (checks the script)
set -u
B=${1:?usage: bench/run.sh BUILD_DIR}
top=$(cd "$(dirname "$0")/.." && pwd)
N=${CPROF_BENCH_N:-11}
M1=700 M2=450 MH=500 MF=20 NH=5 NF=5 # workload sizes (millions of iterations), side rounds
if [ "${CPROF_BENCH_QUICK:-}" = 1 ]; then
	N=3 M1=100 M2=60 MH=60 NH=2 NF=2
fi

runner=$B/bench/bench_runner
cpu=$B/bench/bench_cpu
cpufp=$B/bench/bench_cpu_fp
libcprof=$B/lib/libcprof.so
libprofiler=
for f in /usr/lib/x86_64-linux-gnu/libprofiler.so /usr/lib/*/libprofiler.so /usr/lib64/libprofiler.so \
	/usr/local/lib/libprofiler.so; do
	[ -e "$f" ] && { libprofiler=$f; break; }
done
for f in "$runner" "$cpu" "$libcprof"; do
	[ -x "$f" ] || [ -f "$f" ] || { echo "bench: $f is missing: run make bench" >&2; exit 1; }
done
[ -n "$libprofiler" ] || { echo "bench: libprofiler.so not found: scripts/deps.sh bench installs it" >&2; exit 1; }
command -v go >/dev/null 2>&1 || { echo "bench: go is missing: scripts/deps.sh bench installs it" >&2; exit 1; }

# The frame-pointer build of the same workload, for CPROF_UNWIND=fp.
${CC:-cc} -O2 -g -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -std=gnu11 -Wall -Wextra -Werror \
	-D_GNU_SOURCE -o "$cpufp" "$top/bench/bench_cpu.c" -lpthread || exit 1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cprof-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/p" "$tmp/err"
report=$tmp/report
: >"$report"
runs=$tmp/runs.tsv # wl cfg rep wall user sys prof
: >"$runs"
failed=0

# ---- configurations: workload, name, binary, arguments, environment ----
# @P@ in the environment becomes the run's profile path.
cp_env="LD_PRELOAD=$libcprof CPROF_CPUPROFILE=@P@ CPROF_REPORT=$report"
gp_env="LD_PRELOAD=$libprofiler CPUPROFILE=@P@"
C_WL=() C_NAME=() C_BIN=() C_ARGS=() C_ENV=()
add() { C_WL+=("$1"); C_NAME+=("$2"); C_BIN+=("$3"); C_ARGS+=("$4"); C_ENV+=("$5"); }
for wl in 1t 2t; do
	if [ $wl = 1t ]; then a="-t 1 -d 32 -m $M1"; else a="-t 2 -d 32 -m $M2"; fi
	add $wl base "$cpu" "$a" ""
	add $wl cprof-dwarf-100 "$cpu" "$a" "$cp_env CPROF_CPU_HZ=100"
	add $wl cprof-dwarf-1000 "$cpu" "$a" "$cp_env CPROF_CPU_HZ=1000"
	add $wl gperf-100 "$cpu" "$a" "$gp_env CPUPROFILE_FREQUENCY=100"
	add $wl gperf-1000 "$cpu" "$a" "$gp_env CPUPROFILE_FREQUENCY=1000"
	add $wl base-fpbuild "$cpufp" "$a" ""
	add $wl cprof-fp-100 "$cpufp" "$a" "$cp_env CPROF_CPU_HZ=100 CPROF_UNWIND=fp"
	add $wl cprof-fp-1000 "$cpufp" "$a" "$cp_env CPROF_CPU_HZ=1000 CPROF_UNWIND=fp"
done
main_end=${#C_WL[@]}
# Handler cost against stack depth: shallow (1 level) and very deep (120).
for d in 1 120; do
	add hd$d cprof-dwarf-1000 "$cpu" "-t 1 -d $d -m $MH" "$cp_env CPROF_CPU_HZ=1000"
	add hd$d cprof-fp-1000 "$cpufp" "-t 1 -d $d -m $MH" "$cp_env CPROF_CPU_HZ=1000 CPROF_UNWIND=fp"
done
hand_end=${#C_WL[@]}
# Fixed cost (load, start, symbolize, write) on a ~40 ms run with a few samples.
add fix base "$cpu" "-t 1 -d 32 -m $MF" ""
add fix cprof-dwarf-100 "$cpu" "-t 1 -d 32 -m $MF" "$cp_env CPROF_CPU_HZ=100"
add fix cprof-dwarf-1000 "$cpu" "-t 1 -d 32 -m $MF" "$cp_env CPROF_CPU_HZ=1000"
add fix gperf-100 "$cpu" "-t 1 -d 32 -m $MF" "$gp_env CPUPROFILE_FREQUENCY=100"
add fix gperf-1000 "$cpu" "-t 1 -d 32 -m $MF" "$gp_env CPUPROFILE_FREQUENCY=1000"
add fix base-fpbuild "$cpufp" "-t 1 -d 32 -m $MF" ""
add fix cprof-fp-100 "$cpufp" "-t 1 -d 32 -m $MF" "$cp_env CPROF_CPU_HZ=100 CPROF_UNWIND=fp"
add fix cprof-fp-1000 "$cpufp" "-t 1 -d 32 -m $MF" "$cp_env CPROF_CPU_HZ=1000 CPROF_UNWIND=fp"
all_end=${#C_WL[@]}

run_one() { # index rep
	local i=$1 rep=$2 prof="" envs=() e out
	if [ -n "${C_ENV[$i]}" ]; then
		prof=$tmp/p/${C_WL[$i]}.${C_NAME[$i]}.$rep
		for e in ${C_ENV[$i]}; do envs+=("${e//@P@/$prof}"); done
	fi
	local err=$tmp/err/${C_WL[$i]}.${C_NAME[$i]}.$rep
	# shellcheck disable=SC2086
	if ! out=$("$runner" -e "$err" "${envs[@]}" -- "${C_BIN[$i]}" ${C_ARGS[$i]}); then
		echo "bench: ${C_WL[$i]} ${C_NAME[$i]} run $rep failed:" >&2
		sed 's/^/  /' "$err" >&2
		failed=1
		return
	fi
	printf '%s\t%s\t%s\t%s\t%s\n' "${C_WL[$i]}" "${C_NAME[$i]}" "$rep" "$(echo "$out" | tr ' ' '\t')" "$prof" >>"$runs"
}

# Interleaved rounds over the index range [from, to).
rounds() { # from to nrounds label
	local from=$1 n=$3 label=$4 k=$(($2 - $1)) r j
	for ((r = 1; r <= n; r++)); do
		echo "bench: $label round $r/$n" >&2
		for ((j = 0; j < k; j++)); do
			run_one $((from + (j + r - 1) % k)) "$r"
		done
	done
}

start=$SECONDS
load0=$(cut -d' ' -f1-3 /proc/loadavg)
rounds 0 "$main_end" "$N" "overhead"
rounds "$main_end" "$hand_end" "$NH" "handler depth"
rounds "$hand_end" "$all_end" "$NF" "fixed cost"
load1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- read every profile back ----
# Per profile: sum of the first value (samples/count), of the second
# (cpu/nanoseconds), cpu under thread_a, under thread_b, frames per sample.
profile_stats() { # binary profile
	go tool pprof -raw "$1" "$2" 2>/dev/null | awk '
		/^Samples:/ { sec = "s"; next }
		/^Locations/ { sec = "l"; next }
		/^Mappings/ { sec = "m"; next }
		sec == "s" && /^ *[0-9]+ +[0-9]+:/ {
			n++; cnt[n] = $1; ns[n] = $2
			s = $0; sub(/^[^:]*: */, "", s); stk[n] = s; next
		}
		sec == "l" && $1 ~ /^[0-9]+:$/ { id = substr($1, 1, length($1) - 1); f = $4 }
		sec == "l" && $1 !~ /^[0-9]+:$/ && NF > 0 { f = $1 }
		sec == "l" && f == "thread_a" { ta[id] = 1 }
		sec == "l" && f == "thread_b" { tb[id] = 1 }
		END {
			if (n == 0) { print "0 0 0 0 0"; exit }
			for (i = 1; i <= n; i++) {
				c += cnt[i]; t += ns[i]
				k = split(stk[i], ids, " "); fr += k * cnt[i]
				for (j = 1; j <= k; j++) {
					if (ids[j] in ta) { a += ns[i]; break }
					if (ids[j] in tb) { b += ns[i]; break }
				}
			}
			printf "%d %.0f %.0f %.0f %.1f\n", c, t, a, b, fr / c
		}'
}

full=$tmp/full.tsv # runs.tsv + count cpu_ns a_ns b_ns frames signals p50 p99
: >"$full"
while IFS=$'\t' read -r wl cfg rep wall user sys prof; do
	stats="- - - - -" sig=- p50=- p99=-
	if [ -n "$prof" ]; then
		if [ ! -s "$prof" ]; then
			echo "bench: $wl $cfg run $rep wrote no profile ($prof)" >&2
			failed=1
			continue
		fi
		stats=$(profile_stats "$cpu" "$prof")
		if [ "$wl" != fix ] && [ "${stats%% *}" = 0 ]; then
			echo "bench: $wl $cfg run $rep: the profile has no samples" >&2
			failed=1
		fi
		case $cfg in
		cprof-*)
			line=$(awk -F'\t' -v p="$prof" '$3 == p { print $4 }' "$report")
			if [ -z "$line" ]; then
				echo "bench: $wl $cfg run $rep: no CPROF_REPORT line for $prof" >&2
				failed=1
			fi
			for kv in $line; do
				case $kv in
				samples=*) sig=${kv#*=} ;;
				handler_p50_ns=*) p50=${kv#*=} ;;
				handler_p99_ns=*) p99=${kv#*=} ;;
				esac
			done
			;;
		gperf-*) sig=${stats%% *} ;; # gperftools: one count per signal
		esac
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$wl" "$cfg" "$rep" "$wall" "$user" "$sys" \
		"$(echo "$stats" | tr ' ' '\t')" "$sig" "$p50" "$p99" >>"$full"
done <"$runs"

# ---- the report: reads full.tsv, prints markdown ----
# Fields: 1 workload, 2 configuration, 3 round, 4 wall ns, 5 user ns, 6 sys ns,
# 7 profile count, 8 profile cpu ns, 9 thread_a ns, 10 thread_b ns,
# 11 frames per sample, 12 signals, 13 handler p50 ns, 14 handler p99 ns.
report_awk=$(cat <<'EOF'
function push(arr, k, v) { arr[k] = (k in arr) ? arr[k] " " v : v }
function sorted(s, a,    n, i, j, t) {
	n = split(s, a, " ")
	for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return n
}
function q(s, p,    a, n, x, i) { # quantile p of a list, linear interpolation
	n = sorted(s, a); if (n == 0) return 0
	x = 1 + p * (n - 1); i = int(x)
	return i >= n ? a[n] + 0 : a[i] + (x - i) * (a[i + 1] - a[i])
}
function med(s) { return q(s, 0.5) }
function mx(s,    a, n) { n = sorted(s, a); return a[n] }
function mn(s,    a, n) { n = sorted(s, a); return a[1] }
function pct(x) { return sprintf("%+.1f %%", 100 * x) }
function base_of(c) { return c ~ /fp-/ || c ~ /fpbuild/ ? "base-fpbuild" : "base" }
function hzof(c) { return c ~ /-1000$/ ? 1000 : (c ~ /-100$/ ? 100 : "") }
function hiqr(s) { return (q(s, .75) - q(s, .25)) / 2 }
# CPU a profiler costs once per run (load, start, symbolize, write): the
# difference on a ~40 ms run of the same workload.
function fixed(c,    fk, fb) {
	fk = "fix" SUBSEP c; fb = "fix" SUBSEP base_of(c)
	return (fk in CPU) && (fb in CPU) ? med(CPU[fk]) - med(CPU[fb]) : 0
}
function goal(c, wo, co,    g) {
	if (c !~ /^cprof/) return ""
	g = c ~ /-100$/ ? 0.01 : 0.03
	return sprintf("<= %d %%: CPU %s, wall %s", 100 * g, co <= g ? "met" : "MISSED", wo <= g ? "met" : "MISSED")
}
{
	k = $1 SUBSEP $2
	cpu = $5 + $6
	push(WALL, k, $4); push(CPU, k, cpu)
	if ($7 != "-") {
		push(ACC, k, $8 / cpu); push(FR, k, $11); push(PCPU, k, $8)
		if ($9 + $10 > 0) push(SHARE, k, 100 * $9 / ($9 + $10))
	}
	if ($12 != "-") { push(SIG, k, $12); push(RATE, k, $12 / (cpu / 1e9)) }
	if ($13 != "-") { push(P50, k, $13); push(P99, k, $14) }
}
END {
	nc = split("base cprof-dwarf-100 cprof-dwarf-1000 gperf-100 gperf-1000 base-fpbuild cprof-fp-100 cprof-fp-1000", C, " ")
	name["1t"] = "1 thread"; name["2t"] = "2 threads"

	print "### 1. Run time: overhead = median(configuration) / median(baseline) - 1 (ratio of medians)"
	print ""
	print "fp configurations are compared with the frame-pointer build of the same workload (base-fpbuild)."
	print ""
	print "| workload | configuration | wall median | wall overhead | CPU (user+sys) median | CPU overhead | CPU overhead without the fixed cost (table 5) | goal |"
	print "|---|---|---|---|---|---|---|---|"
	for (w = 1; w <= 2; w++) {
		wl = w == 1 ? "1t" : "2t"
		for (i = 1; i <= nc; i++) {
			k = wl SUBSEP C[i]; b = wl SUBSEP base_of(C[i])
			if (!(k in WALL)) continue
			wm = med(WALL[k]); cm = med(CPU[k])
			if (C[i] ~ /^base/) { wo = "-"; co = "-"; xo = "-"; g = "" }
			else {
				wr = wm / med(WALL[b]) - 1; cr = cm / med(CPU[b]) - 1
				wo = pct(wr); co = pct(cr); g = goal(C[i], wr, cr)
				xo = pct(cr - fixed(C[i]) / med(CPU[b]))
			}
			printf "| %s | %s | %.3f s | %s | %.3f s | %s | %s | %s |\n", name[wl], C[i], wm / 1e9, wo, cm / 1e9, co, xo, g
		}
	}
	print ""
	for (w = 1; w <= 2; w++) {
		wl = w == 1 ? "1t" : "2t"; k = wl SUBSEP "base"
		printf "Run-to-run spread of the %s baseline (half the interquartile range / median): wall %.1f %%, CPU %.1f %%.\n", \
			name[wl], 50 * (q(WALL[k], .75) - q(WALL[k], .25)) / med(WALL[k]), 50 * (q(CPU[k], .75) - q(CPU[k], .25)) / med(CPU[k])
	}
	print ""

	print "### 2. Thread fairness: two identical busy threads, thread A's share of the profile's CPU"
	print ""
	print "| profiler | Hz | thread A share, each run (%) | median | worst abs(A - 50) |"
	print "|---|---|---|---|---|"
	split("cprof-dwarf-100 cprof-dwarf-1000 cprof-fp-100 cprof-fp-1000 gperf-100 gperf-1000", F, " ")
	for (i = 1; i <= 6; i++) {
		k = "2t" SUBSEP F[i]
		if (!(k in SHARE)) continue
		n = split(SHARE[k], a, " "); list = ""; worst = 0
		for (j = 1; j <= n; j++) {
			list = list (j > 1 ? " " : "") sprintf("%.0f", a[j])
			d = a[j] - 50; if (d < 0) d = -d; if (d > worst) worst = d
		}
		p = F[i]; sub(/-[0-9]+$/, "", p)
		printf "| %s | %s | %s | %.1f | %.1f |\n", p, hzof(F[i]), list, med(SHARE[k]), worst
	}
	print ""

	print "### 3. CPU-total accuracy: CPU time in the profile / user+sys CPU time of the same run"
	print ""
	print "Signals per CPU-second: samples the handler took (cprof: from CPROF_REPORT; gperftools: samples in the profile) per second of the run's CPU time."
	print ""
	print "| workload | configuration | Hz asked | signals per CPU-second (median) | profile CPU / user+sys of the run: median [min - max] | profile CPU / baseline CPU (median) |"
	print "|---|---|---|---|---|---|"
	for (w = 1; w <= 2; w++) {
		wl = w == 1 ? "1t" : "2t"
		for (i = 1; i <= nc; i++) {
			k = wl SUBSEP C[i]
			if (!(k in ACC)) continue
			printf "| %s | %s | %s | %.0f | %.1f %% [%.1f - %.1f] | %.1f %% |\n", name[wl], C[i], hzof(C[i]), med(RATE[k]), \
				100 * med(ACC[k]), 100 * mn(ACC[k]), 100 * mx(ACC[k]), 100 * med(PCPU[k]) / med(CPU[wl SUBSEP base_of(C[i])])
		}
	}
	print ""

	print "### 4. cprof signal handler time per sample (CPROF_REPORT handler_p50_ns / handler_p99_ns, 1000 Hz, 1 thread)"
	print ""
	print "The runtime keeps a log-bucket histogram (within 25 %). Median over runs of each run's p50 and p99; max of the p99s."
	print ""
	print "| unwinder | recursion depth | frames per sample | handler p50 | handler p99 (median run) | handler p99 (worst run) | runs |"
	print "|---|---|---|---|---|---|---|"
	split("dwarf fp", U, " ")
	for (u = 1; u <= 2; u++) {
		split("hd1 1t hd120", D, " "); split("1 32 120", DN, " ")
		for (d = 1; d <= 3; d++) {
			k = D[d] SUBSEP "cprof-" U[u] "-1000"
			if (!(k in P50)) continue
			printf "| %s | %s | %.0f | %.2f us | %.2f us | %.2f us | %d |\n", U[u], DN[d], med(FR[k]), med(P50[k]) / 1e3, \
				med(P99[k]) / 1e3, mx(P99[k]) / 1e3, split(P50[k], a, " ")
		}
	}
	print ""

	print "### 5. Estimated CPU cost per sample, both profilers (an estimate from CPU-time differences, not a direct measurement)"
	print ""
	print "naive = (median CPU with profiler - median CPU without) / median signals. The fixed cost (load, start, symbolize, write) is the same difference on a ~40 ms run; corrected = (difference - fixed difference) / (signals - fixed-run signals). noise = the CPU times' half interquartile ranges, combined, per sample: corrected figures smaller than it are not resolved."
	print ""
	print "| workload | configuration | CPU difference | signals | naive per sample | fixed cost | corrected per sample | noise (+-) |"
	print "|---|---|---|---|---|---|---|---|"
	for (w = 1; w <= 2; w++) {
		wl = w == 1 ? "1t" : "2t"
		for (i = 1; i <= nc; i++) {
			if (C[i] ~ /^base/) continue
			k = wl SUBSEP C[i]; b = wl SUBSEP base_of(C[i])
			fk = "fix" SUBSEP C[i]; fb = "fix" SUBSEP base_of(C[i])
			if (!(k in SIG)) continue
			dc = med(CPU[k]) - med(CPU[b]); s = med(SIG[k])
			fx = fixed(C[i])
			fs = (fk in SIG) ? med(SIG[fk]) : 0
			nz = sqrt(hiqr(CPU[k]) ^ 2 + hiqr(CPU[b]) ^ 2 + hiqr(CPU[fk]) ^ 2 + hiqr(CPU[fb]) ^ 2)
			printf "| %s | %s | %+.1f ms | %.0f | %.1f us | %+.1f ms | %.1f us | %.1f us |\n", name[wl], C[i], dc / 1e6, s, \
				dc / s / 1e3, fx / 1e6, (s > fs ? (dc - fx) / (s - fs) / 1e3 : 0), (s > fs ? nz / (s - fs) / 1e3 : 0)
		}
	}
}
EOF
)

# ---- the tables ----
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
hz=$(grep -h '^CONFIG_HZ=' "/boot/config-$(uname -r)" 2>/dev/null | cut -d= -f2)
[ -n "$hz" ] || hz=$( (zcat /proc/config.gz 2>/dev/null || true) | grep '^CONFIG_HZ=' | cut -d= -f2)
gpver=$(dpkg-query -W -f '${Version}' libgoogle-perftools4 2>/dev/null || echo unknown)
out=$B/bench/results.md
{
	echo "## cprof CPU profiler vs gperftools vs no profiler"
	echo
	echo "- command: \`make bench\` (bench/run.sh $B), $N interleaved rounds"
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); run took $((SECONDS - start)) s"
	echo "- machine: $cpu_model, $(nproc) CPUs, Linux $(uname -r), CONFIG_HZ=${hz:-unknown}," \
		"load average ${load0} before, ${load1} after"
	echo "- gperftools $gpver ($libprofiler), $(go version | cut -d' ' -f3) pprof, $(${CC:-cc} --version | head -n 1)"
	echo "- workloads: bench_cpu (xorshift loop under 32-deep recursion), 1t = 1 thread x ${M1}M iterations," \
		"2t = 2 identical threads x ${M2}M; built -O2 -fomit-frame-pointer, fpbuild = -fno-omit-frame-pointer"
	echo
	awk -F'\t' "$report_awk" "$full"
} | tee "$out"
echo "bench: results also in $out" >&2
# cprof pprof against go tool pprof on a large profile (appends to $out).
"$top/bench/pprof_bench.sh" "$B" || failed=1
# The web UI's flame graph in the browser, against go tool pprof -http (appends to $out).
"$top/bench/webui_bench.sh" "$B" || failed=1
# The heap profiler against heaptrack, gperftools and tcmalloc (appends to $out).
"$top/bench/heap_run.sh" "$B" "$out" || failed=1
# The /debug/pprof endpoint's cost to the program it serves from (appends to $out).
"$top/bench/http_bench.sh" "$B" "$out" || failed=1
# The wall-clock profiler on 32 mostly idle threads (appends to $out).
"$top/bench/wall_run.sh" "$B" "$out" || failed=1
# The continuous collector's cost to a service-like program (appends to $out).
"$top/bench/continuous_bench.sh" "$B" "$out" || failed=1
# The execution tracer: annotation cost, a lock-heavy program traced (appends to $out).
"$top/bench/trace_run.sh" "$B" "$out" || failed=1
# The trace viewer in the browser on 1- and 10-million-event traces (appends to $out).
"$top/bench/trace_viewer_bench.sh" "$B" "$out" || failed=1
# The benchmark harness's own overhead and run-to-run spread (appends to $out).
"$top/bench/harness_bench.sh" "$B" || failed=1
# The block and mutex profilers' cost per lock operation (appends to $out).
"$top/bench/lock_bench.sh" "$B" || failed=1
if [ "$failed" != 0 ]; then
	echo "bench: FAILED: some runs failed or left no profile (see above)" >&2
	exit 1
fi
