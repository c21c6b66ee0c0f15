#!/usr/bin/env bash
# bench/continuous_bench.sh - what the continuous collector costs the
# program it runs in: a service-like workload (tests/progs/svc_work: threads
# serving requests of CPU work, allocations and a shared mutex, for a fixed
# time) with the runtime preloaded and nothing on ("off"), against the same
# with CPROF_CONTINUOUS on, to a directory, with a 10 s period to stress
# it (the default is 60 s), and every profile type this runtime has.
# Throughput = requests served per second, and the process's CPU time
# (user + sys) per request; rounds interleaved; ratios of medians. Also:
# the collector's own CPU time, read from the CPU profiles it sent (its
# thread takes the profiling signal: samples under collector()), the
# collector's memory (max RSS on against off, and the status file's own
# accounting), and what loading libcurl costs a program that uploads (a
# network destination dlopens it; no other program maps it).
#
# Usage: bench/continuous_bench.sh BUILD_DIR [RESULTS_FILE]   (make bench-continuous)
#   CPROF_BENCH_N=5        rounds
#   CPROF_BENCH_QUICK=1    2 rounds of 3 s (checks the script)
#   CPROF_BENCH_SECS=30    seconds per run; CPROF_BENCH_PERIOD=10s  the collector's period
#   CPROF_BENCH_BASE_LIB=path/libcprof.so  also run "on" with that library
#                          (another build of the runtime), in the same rounds
set -u
B=${1:?usage: bench/continuous_bench.sh BUILD_DIR [RESULTS_FILE]}
out=${2:-$B/bench/results.md}
N=${CPROF_BENCH_N:-5}
SECS=${CPROF_BENCH_SECS:-30} PERIOD=${CPROF_BENCH_PERIOD:-10s} THREADS=4
if [ "${CPROF_BENCH_QUICK:-}" = 1 ]; then
	N=2 SECS=3 PERIOD=1s
fi
prog=$B/tests/progs/svc_work
lib=$B/lib/libcprof.so
for f in "$prog" "$lib"; do
	[ -e "$f" ] || { echo "bench: $f is missing: run make bench-continuous" >&2; exit 1; }
done
mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cprof-cbench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/store"

# The profilers the collector ships, as far as this runtime has them: each
# is switched on by its own variable (the heap profiler by the collector
# itself; block sampled per 10 µs of waiting, mutex 1 contention in 10).
kinds_env="CPROF_BLOCK_RATE=10000 CPROF_MUTEX_FRACTION=10"

# run CFG ROUND: one run; appends "cfg round served_per_s maxrss_kb
# cpu_ns_per_request collector_cpu_ns periods" to runs.
# off: the runtime, nothing on; prof: the profilers the collector would
# use, on, without the collector; on: the same with the collector; base:
# "on" with CPROF_BENCH_BASE_LIB. The collector thread's CPU time is read
# from /proc (schedstat, ns) while the program runs, the last reading
# before it exits (its last period, taken by the exiting thread, is not in it).
run() {
	local cfg=$1 r=$2 l=$lib
	[ "$cfg" = base ] && l=$CPROF_BENCH_BASE_LIB
	local envs="LD_PRELOAD=$l"
	[ "$cfg" = off ] || envs="$envs CPROF_MEM_RATE=524288 $kinds_env"
	if [ "$cfg" = on ] || [ "$cfg" = base ]; then
		rm -rf "$tmp/store.$cfg"
		envs="$envs CPROF_CONTINUOUS=dir:$tmp/store.$cfg CPROF_CONTINUOUS_PERIOD=$PERIOD"
		envs="$envs CPROF_CONTINUOUS_STATUS=$tmp/status.$cfg.$r"
	fi
	python3 - "$cfg" "$r" "$SECS" "$tmp/runs" "$tmp/status.$cfg.$r" env $envs "$prog" "$SECS" "$THREADS" 16 <<'EOF'
import os, resource, subprocess, sys, time
cfg, r, secs, runs, status = sys.argv[1:6]
p = subprocess.Popen(sys.argv[6:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
coll_ns, tid = 0, None
while p.poll() is None:
    try:
        if tid is None:
            for t in os.listdir("/proc/%d/task" % p.pid):
                if open("/proc/%d/task/%s/comm" % (p.pid, t)).read().strip() == "cprof-collect":
                    tid = t
        if tid is not None:
            coll_ns = int(open("/proc/%d/task/%s/schedstat" % (p.pid, tid)).read().split()[0])
    except OSError:
        pass
    time.sleep(0.1)
out, err = p.communicate()
if p.returncode != 0:
    sys.exit("bench: %s round %s failed: %s" % (cfg, r, err))
served = int(out.split()[1])
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (ru.ru_utime + ru.ru_stime) * 1e9 / max(served, 1)
periods = 0
if os.path.exists(status):
    for line in open(status):
        if line.startswith("batches "):
            periods = int(line.split()[1]) - 1  # the last one is taken by the exiting thread
open(runs, "a").write("%s %s %.1f %d %.1f %d %d\n" % (cfg, r, served / float(secs), ru.ru_maxrss, cpu, coll_ns, periods))
EOF
}

: >"$tmp/runs"
start=$SECONDS
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq 1 "$N"); do
	echo "bench: continuous round $r/$N" >&2
	case $((r % 3)) in
	1) run off "$r" && run prof "$r" && run on "$r" ;;
	2) run prof "$r" && run on "$r" && run off "$r" ;;
	0) run on "$r" && run off "$r" && run prof "$r" ;;
	esac || exit 1
	if [ -n "${CPROF_BENCH_BASE_LIB:-}" ]; then
		run base "$r" || exit 1
	fi
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)
last=$(ls -v "$tmp"/status.on.* | tail -1)
st() { awk -v k="$1" '$1 == k { sub(/^[^ ]+ /, ""); print; exit }' "$last"; }
# The collector's own CPU per period, as its own CPU profiles show it
# (samples and thread tail under collector(), at 1000 Hz) and as the kernel
# counts it (schedstat), at a 250 ms period at the program's priority so
# that there are many periods: 3 runs, interleaved with the base library
# when one is given.
selfrun() { # LIB: prints "profile_ms_per_period schedstat_ms_per_period"
	rm -rf "$tmp/self"
	python3 - "$1" "$prog" "$B/bin/cprof" "$tmp" <<'EOF'
import os, subprocess, sys, time
lib, prog, cprof, tmp = sys.argv[1:5]
env = dict(os.environ, CPROF_CONTINUOUS_NICE="0", CPROF_CPU_HZ="1000", CPROF_MEM_RATE="524288",
           CPROF_BLOCK_RATE="10000", CPROF_MUTEX_FRACTION="10", LD_PRELOAD=lib,
           CPROF_CONTINUOUS="dir:%s/self" % tmp, CPROF_CONTINUOUS_PERIOD="250ms",
           CPROF_CONTINUOUS_STATUS="%s/self.status" % tmp)
p = subprocess.Popen([prog, "8", "4", "16"], env=env, stdout=subprocess.DEVNULL)
ns, tid = 0, None
while p.poll() is None:
    try:
        if tid is None:
            for t in os.listdir("/proc/%d/task" % p.pid):
                if open("/proc/%d/task/%s/comm" % (p.pid, t)).read().strip() == "cprof-collect":
                    tid = t
        if tid:
            ns = int(open("/proc/%d/task/%s/schedstat" % (p.pid, tid)).read().split()[0])
    except OSError:
        pass
    time.sleep(0.05)
b = int([l.split()[1] for l in open("%s/self.status" % tmp) if l.startswith("batches ")][0])
top = subprocess.run([cprof, "pprof", "-kind=cpu", "-top", "-focus=^collector$", "-unit=ms", "%s/self" % tmp],
                     capture_output=True, text=True).stdout
ms = 0.0
for l in top.splitlines():
    if l.startswith("Showing nodes accounting for"):
        ms = float(l.split()[4].rstrip("ms,"))
print("%.2f %.2f" % (ms / b, ns / 1e6 / max(b - 1, 1)))
EOF
}
selfs= selfb=
for r in 1 2 3; do
	selfs="$selfs $(selfrun "$lib")"
	[ -n "${CPROF_BENCH_BASE_LIB:-}" ] && selfb="$selfb $(selfrun "$CPROF_BENCH_BASE_LIB")"
done

# libcurl's load: a trivial preloaded program, 40 times, off against a
# network destination nobody listens on (the upload fails at once).
dead=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
load=$(python3 - "$lib" "$dead" <<'EOF'
import os, statistics, subprocess, sys, time
lib, port = sys.argv[1:3]
base = dict(os.environ, LD_PRELOAD=lib)
net = dict(base, CPROF_CONTINUOUS="pyroscope:http://127.0.0.1:%s" % port, CPROF_CONTINUOUS_PERIOD="60s",
           CPROF_CONTINUOUS_RETRIES="0", CPROF_CONTINUOUS_STATUS="/dev/null", CPROF_QUIET="1")
t = {"off": [], "net": []}
for i in range(40):
    for k, e in (("off", base), ("net", net)) if i % 2 else (("net", net), ("off", base)):
        t0 = time.perf_counter()
        subprocess.run(["/bin/true"], env=e)
        t[k].append(time.perf_counter() - t0)
print("%.2f %.2f" % (statistics.median(t["off"]) * 1e3, statistics.median(t["net"]) * 1e3))
EOF
)
needs_curl=$(readelf -d "$lib" | grep -c 'NEEDED.*libcurl')

awk -v n="$N" -v secs="$SECS" -v period="$PERIOD" -v th="$THREADS" -v took=$((SECONDS - start)) \
	-v kinds="$(st last_kinds)" -v skipped="$(st skipped)" -v batches="$(st batches)" \
	-v symb="$(st symbol_cache_bytes)" -v sympcs="$(st symbol_cache_pcs)" -v selfs="$selfs" -v selfb="$selfb" -v load0="$load0" -v load1="$load1" \
	-v base="$(st baseline_bytes)" -v load="$load" -v needs="$needs_curl" -v date="$(date -u '+%Y-%m-%d %H:%M UTC')" \
	-v cpu="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" -v ncpu="$(nproc)" '
function median(a, k,   i, j, t) {
	for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
{ if ($1 == "on") { on[++non] = $3; ron[non] = $4; con[non] = $5; self_on[non] = $7 > 0 ? $6 / $7 : 0 }
  else if ($1 == "off") { off[++noff] = $3; roff[noff] = $4; coff[noff] = $5 }
  else if ($1 == "base") { ba[++nba] = $3; cba[nba] = $5; self_ba[nba] = $7 > 0 ? $6 / $7 : 0 }
  else { pr[++npr] = $3; rpr[npr] = $4; cpr[npr] = $5 } }
END {
	mon = median(on, non); moff = median(off, noff); rsson = median(ron, non); rssoff = median(roff, noff)
	mpr = median(pr, npr); rsspr = median(rpr, npr)
	cuon = median(con, non); cuoff = median(coff, noff); cupr = median(cpr, npr)
	slow = moff / mon - 1; cslow = mpr / mon - 1
	split(load, l, " ")
	print "## Continuous profiling: the collector on against off"
	print ""
	print "- command: `" (ENVIRON["CPROF_BENCH_PERIOD"] != "" ? "CPROF_BENCH_N=" n " CPROF_BENCH_SECS=" secs " CPROF_BENCH_PERIOD=" period " " : "") "make bench-continuous` (bench/continuous_bench.sh), " n " interleaved rounds of " secs " s; took " took " s"
	print "- date: " date "; machine: " cpu ", " ncpu " CPUs; load average " load0 " at the start, " load1 " at the end"
	print "- workload: tests/progs/svc_work, " th " threads serving requests (1/16 of a work unit of CPU, a malloc of 64..1087 bytes, a shared mutex); throughput = requests per second"
	print "- collector: CPROF_CONTINUOUS=dir:..., period " period " (the default is 60 s), profiles per period: " kinds "; not collected: " skipped
	print ""
	print "- off: the runtime preloaded, nothing on; profilers: heap (default rate), block (one sample per 10 us waited) and mutex (1 in 10) on, no collector; on: the same with the collector"
	print ""
	print "| | off | profilers | on | on/off | on/profilers |"
	print "|---|---|---|---|---|---|"
	printf "| requests/s (median) | %.0f | %.0f | %.0f | %.4f | %.4f |\n", moff, mpr, mon, mon / moff, mon / mpr
	printf "| slower by (goal <= 2%%) | | | | %.2f%% %s | %.2f%% %s |\n", slow * 100, slow <= 0.02 ? "(met)" : "(missed)", cslow * 100, cslow <= 0.02 ? "(met)" : "(missed)"
	printf "| CPU (user+sys) per request, us (median) | %.2f | %.2f | %.2f | %.4f | %.4f |\n", cuoff / 1e3, cupr / 1e3, cuon / 1e3, cuon / cuoff, cuon / cupr
	printf "| max RSS, KiB (median) | %d | %d | %d | +%d KiB | +%d KiB |\n", rssoff, rsspr, rsson, rsson - rssoff, rsson - rsspr
	print ""
	printf "- CPU of the collector thread per period (/proc schedstat, median of %d runs): %.2f ms\n", non, median(self_on, non) / 1e6
	if (nba > 0) {
		printf "- against CPROF_BENCH_BASE_LIB (%s), in the same rounds: requests/s %.0f (on: %.0f, ratio on/base %.4f), CPU per request %.2f us (ratio %.4f), collector CPU per period %.2f ms (on: %.2f ms)\n", ENVIRON["CPROF_BENCH_BASE_LIB"], median(ba, nba), mon, mon / median(ba, nba), median(cba, nba) / 1e3, cuon / median(cba, nba), median(self_ba, nba) / 1e6, median(self_on, non) / 1e6
	}
	ns = split(selfs, sv, " "); nb = split(selfb, bv, " ")
	for (i = 1; i <= ns / 2; i++) { sp[i] = sv[2 * i - 1]; ss[i] = sv[2 * i] }
	for (i = 1; i <= nb / 2; i++) { bp[i] = bv[2 * i - 1]; bs[i] = bv[2 * i] }
	printf "- CPU of the collector thread per period at a 250 ms period, nice 0, 1000 Hz (median of %d runs): %.2f ms in its own CPU profiles (cprof pprof -focus=collector), %.2f ms by the kernel (schedstat)", ns / 2, median(sp, ns / 2), median(ss, ns / 2)
	if (nb > 0)
		printf "; base library, same runs interleaved: %.2f ms and %.2f ms", median(bp, nb / 2), median(bs, nb / 2)
	print ""
	printf "- symbol names kept between periods: %d bytes for %d addresses\n", symb, sympcs
	printf "- the collector kept %d bytes of delta baselines after %d periods (the status file); uploads queue at most CPROF_CONTINUOUS_QUEUE batches (default 4)\n", base, batches
	printf "- libcurl: libcprof.so does not link it (NEEDED entries naming libcurl: %d); a network destination dlopens it: /bin/true preloaded, median of 40: %.2f ms off, %.2f ms with CPROF_CONTINUOUS=pyroscope:... (+%.2f ms, once per process)\n", needs, l[1], l[2], l[2] - l[1]
	print ""
}' "$tmp/runs" | tee -a "$out"
