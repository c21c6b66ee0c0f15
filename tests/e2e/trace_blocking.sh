#!/usr/bin/env bash
# trace_blocking.sh - the execution trace's blocking episodes and CPU
# samples, on tests/progs/trace_blocking_linked, whose waits are known
# exactly (each one is made to block, by a partner that acts only once the
# waiter sleeps in it): the consumer's N condition waits, each released by
# the producer; main's semaphore wait and contended mutex, released by the
# holder; the 100 ms nanosleep (the opt-in syscall class), between 100 ms
# and the program's own timing of the call; the joins of holder and
# spinner, each released by the thread joined; every stack naming the
# function that waited. The regions nest and the task crosses threads.
# CPU samples land on the spinning thread, in spin_work, and carry the
# weight the CPU profile gives them (1 + the timer's overruns): the
# weights of the program's own samples in the trace add up to the CPU
# profile's weight of those samples, exactly when no sample was dropped.
# Cuts of the file decode to a prefix of the whole.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

PROG=$PROGS/trace_blocking_linked

if ! cprof_run "$T/run.err" -blocksyscalls -cpuprofile="$T/cpu.prof" -trace="$T/b.trace" "$PROG" >"$T/out.txt" ||
	! "$CPROF" trace -format=text "$T/b.trace" >"$T/b.txt" 2>"$T/dec.err"; then
	fail blocking_run "$(tail -n 3 "$T/run.err" "$T/dec.err" 2>/dev/null | tr '\n' ' ')"
	exit 0
fi

if ! go tool pprof -traces -sample_index=samples "$T/cpu.prof" >"$T/cpu.traces" 2>"$T/traces.err"; then
	fail blocking_cpu_profile "go tool pprof -traces: $(head -c 300 "$T/traces.err")"
fi

python3 - "$T/out.txt" "$T/b.txt" "$T/run.err" "$T/cpu.traces" <<'PY'
import re, sys

ids = dict(kv.split("=") for kv in open(sys.argv[1]).read().split())
tid = {k: int(v) for k, v in ids.items() if not k.endswith("_ns")}
name_of = {v: k for k, v in tid.items()}
sleep_ns, lock_ns = int(ids["sleep_ns"]), int(ids["lock_ns"])
N = 5

events = []
dropped_weight = 0
for line in open(sys.argv[2]):
    m = re.match(r"# \d+ CPU samples not recorded, standing for (\d+) sampling periods", line)
    if m:
        dropped_weight = int(m.group(1))
    if line.startswith("#"):
        continue
    f = line.split()
    ev = {"ms": float(f[0]), "tid": int(f[1]), "type": f[2]}
    for kv in f[3:]:
        if "=" in kv:
            k, v = kv.split("=", 1)
            ev[k] = v
    events.append(ev)

def check(name, ok, what):
    print(("PASS %s: %s" if ok else "FAIL %s: %s") % (name, what))

def blocks(thread, reason):
    return [e for e in events if e["type"] == "block" and e["tid"] == tid[thread] and e["reason"] == reason]

def frames(e):
    return e.get("at", "").split(";")

def released_in_wait(e):
    # the release falls inside the wait (text times are ms with ns digits)
    end = e["ms"]
    begin = end - int(e["dur_ns"]) / 1e6
    w = float(e.get("wake_ms", "-1"))
    return begin - 1e-6 <= w <= end + 1e-6

c = blocks("consumer", "cond")
check("cond_waits", len(c) == N and all(int(e["peer"]) == tid["producer"] for e in c)
      and all(e["call"] == "pthread_cond_wait" and frames(e)[0] == "consumer" for e in c)
      and all(released_in_wait(e) for e in c),
      "%d condition waits on the consumer, released by %s, at %s (want %d, all by the producer inside the wait, at consumer)"
      % (len(c), sorted({name_of.get(int(e["peer"]), e["peer"]) for e in c}), sorted({e.get("at") for e in c}), N))

s = blocks("main", "sem")
check("sem_wait", len(s) == 1 and int(s[0]["peer"]) == tid["holder"] and s[0]["call"] == "sem_wait"
      and frames(s[0])[0] == "main" and released_in_wait(s[0]),
      "%s (want one sem_wait in main, released by the holder)" % s)

m = blocks("main", "mutex")
check("mutex_wait", len(m) == 1 and int(m[0]["peer"]) == tid["holder"] and frames(m[0])[:2] == ["lock_contended", "main"]
      and released_in_wait(m[0]) and 0 < int(m[0]["dur_ns"]) <= lock_ns,
      "%s (want one pthread_mutex_lock at lock_contended;main, released by the holder, waiting at most the %d ns main measured)"
      % (m, lock_ns))

z = blocks("main", "syscall")
check("sleep_100ms", len(z) == 1 and z[0]["call"] == "nanosleep" and frames(z[0])[:2] == ["sleep_100ms", "main"]
      and 100000000 <= int(z[0]["dur_ns"]) <= sleep_ns and int(z[0]["peer"]) == 0,
      "%s ns (want one nanosleep at sleep_100ms;main, 100000000 <= ns <= %d, main's own timing)"
      % ([e["dur_ns"] for e in z], sleep_ns))

j = blocks("main", "join")
peers = sorted(name_of.get(int(e["peer"]), "?") for e in j)
check("joins", {"holder", "spinner"} <= set(peers) and set(peers) <= {"holder", "spinner", "consumer", "producer"}
      and len(peers) == len(set(peers)) and all(frames(e)[0] == "main" and released_in_wait(e) for e in j),
      "joins released by %s (want holder and spinner among them, each once, at main)" % peers)

stray = [e for e in events if e["type"] == "block" and e["reason"] in ("mutex", "cond", "sem")
         and int(e["peer"]) not in (0, tid["producer"], tid["consumer"], tid["holder"], tid["main"])]
check("no_stray_release", not stray, "%d blocking events released by a thread outside the program" % len(stray))

def thread_seq(thread, types):
    return [(e["type"], e.get("name")) for e in events if e["tid"] == tid[thread] and e["type"] in types]

r = thread_seq("main", ("region-begin", "region-end"))
check("main_regions", r == [("region-begin", "outer"), ("region-begin", "inner"), ("region-end", None),
                            ("region-end", None), ("region-begin", "sleep"), ("region-end", None)],
      "main's regions %s (want outer > inner, then sleep)" % r)
p = thread_seq("producer", ("region-begin", "region-end"))
check("producer_regions", p == [("region-begin", "produce"), ("region-end", None)] * N,
      "%d region events on the producer (want %d produce regions)" % (len(p), N))
tb = [e for e in events if e["type"] == "task-begin"]
te = [e for e in events if e["type"] == "task-end"]
check("task_crosses", len(tb) == 1 and len(te) == 1 and tb[0]["tid"] == tid["main"] and te[0]["tid"] == tid["consumer"]
      and tb[0]["name"] == te[0]["name"] == "transfer" and tb[0]["id"] == te[0]["id"],
      "task begun on %s and ended on %s (want transfer, main to consumer)"
      % ([name_of.get(e["tid"]) for e in tb], [name_of.get(e["tid"]) for e in te]))

# Sleep region around the nanosleep: the block lies inside it.
sl = [e for e in events if e["tid"] == tid["main"] and e["type"] in ("region-begin", "region-end")][4:6]
if len(sl) == 2 and len(z) == 1:
    b, e_ = sl[0]["ms"], sl[1]["ms"]
    zb = z[0]["ms"] - int(z[0]["dur_ns"]) / 1e6
    check("sleep_in_region", b <= zb + 1e-6 and z[0]["ms"] <= e_ + 1e-6,
          "nanosleep %.3f..%.3f ms inside region sleep %.3f..%.3f ms" % (zb, z[0]["ms"], b, e_))

cs = [e for e in events if e["type"] == "cpu-sample"]
sp = [e for e in cs if e["tid"] == tid["spinner"]]
inwork = [e for e in sp if "spin_work" in frames(e)]
# The CPU profiler's signals: how many it recorded (a loaded machine's
# scheduler tick delivers fewer than 100 Hz, weighted by their overruns
# in the profile; the trace's events are the signals, one each). The
# trace has each of them but those that fell on the runtime's own threads
# or inside an event of the thread's own (dropped and counted): 2 at most
# here, where the other threads barely run.
m = re.search(r"cpu profile of pid \d+ written to .*: (\d+) samples", open(sys.argv[3]).read())
nsig = int(m.group(1)) if m else -1
check("cpu_samples", len(sp) >= 1 and len(inwork) >= 0.9 * len(sp) and nsig - 2 <= len(cs) <= nsig,
      "%d CPU samples in all of the CPU profile's %d, %d on the spinner, %d of them in spin_work "
      "(want all but 2 at most, 90%% of the spinner's in spin_work)" % (len(cs), nsig, len(sp), len(inwork)))

# Weights. The CPU profile (go tool pprof -traces -sample_index=samples)
# weighs each signal 1 + its overruns, as the trace's events do. It also
# covers more than the trace: it starts before it and is written after it
# (the runtime's own threads and the exit run outside it), and it adds the
# periods a thread used after its last signal, as it ended, under
# [cprof: unsampled end of thread]. So the two are compared on the
# program's own samples, those with one of its functions on the stack,
# which all fall inside the trace: the trace's weights equal the profile's
# exactly, or fall short by at most the periods of the samples the trace
# could not record (counted in its drops).
PROG = {"main", "spinner", "spin_work", "producer", "consumer", "holder", "wait_main_asleep", "lock_contended",
        "sleep_100ms"}
blocks, cur = [], None  # [weight, frames leaf first] per sample; a sample's first line is "  WEIGHT   LEAF"
for line in open(sys.argv[4]):
    m = re.match(r"\s*(\d+)   (\S.*)$", line)
    if line.startswith("-----"):
        cur = None
    elif cur is None and m:
        cur = [int(m.group(1)), [m.group(2).strip()]]
        blocks.append(cur)
    elif cur is not None and line.strip():
        cur[1].append(line.strip())
tail = lambda fr: fr[0].startswith("[cprof: unsampled end of thread]")
ours = lambda fr: any(f in PROG for f in fr)
p_total = sum(c for c, fr in blocks)
p_tails = sum(c for c, fr in blocks if tail(fr))
p_ours = sum(c for c, fr in blocks if not tail(fr) and ours(fr))
t_total = sum(int(e["weight"]) for e in cs)
t_ours = sum(int(e["weight"]) for e in cs if ours(frames(e)))
heavy = sum(1 for e in cs if int(e["weight"]) > 1)
check("cpu_weights", p_ours > 0 and t_ours <= p_ours <= t_ours + dropped_weight,
      "the program's samples weigh %d periods in the trace, %d in the CPU profile (want equal, or short by at most the "
      "%d periods of the samples not recorded); %d of the trace's %d samples stood for more than one period; "
      "the whole profile: %d periods, %d of them after threads' last signals; the whole trace: %d recorded + %d not"
      % (t_ours, p_ours, dropped_weight, heavy, len(cs), p_total, p_tails, t_total, dropped_weight))
PY

# Cuts decode to a prefix of the whole (times aside: fewer clock records convert ticks).
events_of() { grep -v '^#' "$1" | cut -d' ' -f2- | sed -e 's/^\([0-9]* task-end id=[0-9]*\) name=.*/\1/' -e 's/ wake_ms=[0-9.]*//'; }
events_of "$T/b.txt" >"$T/full.ev"
size=$(stat -c %s "$T/b.trace")
bad=0 cuts=0
hlen=$(od -An -tu4 -j9 -N4 "$T/b.trace" | tr -d ' ')
for ((n = 13 + hlen; n < size; n += 61)); do
	head -c "$n" "$T/b.trace" >"$T/cut.trace"
	cuts=$((cuts + 1))
	if ! "$CPROF" trace -format=text "$T/cut.trace" >"$T/cut.txt" 2>"$T/cut.err"; then
		bad=$((bad + 1)); echo "cut at $n: $(cat "$T/cut.err")" >>"$T/cut.log"; continue
	fi
	events_of "$T/cut.txt" >"$T/cut.ev"
	if ! cmp -s "$T/cut.ev" <(head -n "$(wc -l <"$T/cut.ev")" "$T/full.ev"); then
		bad=$((bad + 1)); echo "cut at $n: not a prefix" >>"$T/cut.log"
	fi
done
if [ "$bad" = 0 ]; then pass blocking_cuts "$cuts cuts of $size bytes, each a prefix of the whole"
else fail blocking_cuts "$bad of $cuts cuts bad: $(head -c 300 "$T/cut.log")"; fi
