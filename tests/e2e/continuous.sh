#!/usr/bin/env bash
# continuous.sh - the continuous collector (CPROF_CONTINUOUS): the local
# store (files, labels, periods that add up to the program's CPU time,
# retention by age and size, cprof continuous status), and uploads to test
# receivers that implement Pyroscope's /ingest and the Datadog agent's
# intake and check every field (continuous_recv.py), including backends that
# answer 500, are slow, or are down.
. "$CPROF_TOP/tests/e2e/lib.sh"
unset CPROF_CONTINUOUS CPROF_CONTINUOUS_PERIOD CPROF_SERVICE CPROF_SERVICE_VERSION CPROF_TAGS \
	CPROF_CONTINUOUS_MAX_AGE CPROF_CONTINUOUS_MAX_BYTES CPROF_CONTINUOUS_QUEUE CPROF_CONTINUOUS_TIMEOUT \
	CPROF_CONTINUOUS_RETRIES CPROF_CONTINUOUS_STATUS CPROF_PYROSCOPE_USER CPROF_PYROSCOPE_PASSWORD \
	CPROF_PYROSCOPE_TOKEN CPROF_PYROSCOPE_TENANT CPROF_CONTINUOUS_NICE
LIB=$CPROF_BUILD/lib/libcprof.so
RECV=$CPROF_TOP/tests/e2e/continuous_recv.py
HOST=$(python3 -c 'import os; print(os.uname().nodename)')

# st FILE KEY: a value from a status file.
st() { awk -v k="$2" '$1 == k { sub(/^[^ ]+ /, ""); print; exit }' "$1"; }

# ---- the collector's threads run at nice 19 unless told otherwise ----
env CPROF_CONTINUOUS=dir:$T/nice CPROF_CONTINUOUS_PERIOD=300ms CPROF_CONTINUOUS_STATUS=$T/nice.status LD_PRELOAD=$LIB \
	"$PROGS/svc_work" 1.5 1 >/dev/null &
npid=$!
nice=
for _ in $(seq 50); do
	for t in /proc/$npid/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = cprof-collect ] && nice=$(awk '{ sub(/^.*\) /, ""); print $17 }' "$t/stat")
	done
	[ -n "$nice" ] && break
	sleep 0.05
done
wait $npid
[ "$nice" = 19 ] && pass collector_nice "the collector thread runs at nice 19" || fail collector_nice "nice '${nice}'"
# The periods the tests below count need the collector on time on a loaded
# machine; the default (19) is what make bench-continuous measures.
export CPROF_CONTINUOUS_NICE=0

# ---- dir: files, labels, periods, status ----
S=$T/store
env CPROF_CONTINUOUS=dir:$S CPROF_CONTINUOUS_PERIOD=400ms CPROF_SERVICE=svc.api \
	CPROF_SERVICE_VERSION=1.2.3 CPROF_TAGS=env:dev,team:core CPROF_CONTINUOUS_STATUS=$T/dir.status LD_PRELOAD=$LIB \
	"$PROGS/svc_work" 2.2 2 >"$T/svc.out"
rc=$?
[ $rc -eq 0 ] && pass dir_run "the program ran and exited 0 with the collector on" || fail dir_run "exit status $rc"
ncpu=$(ls "$S" | grep -c '^svc_api\.cpu\.[0-9]\{8\}T[0-9]\{6\}Z\.[0-9]*\.[0-9]*\.pb\.gz$')
in_range dir_cpu_files "$ncpu" 5 8 "one CPU profile per 400 ms period of a 2.2 s run, plus the last partial one"
first=$(ls "$S"/svc_api.cpu.*.0.pb.gz 2>/dev/null | head -1)
check_valid continuous_cpu "$first"
pid=$(st "$T/dir.status" pid)
seqs=$(ls "$S" | sed -n 's/^svc_api\.cpu\.[^.]*\.'"$pid"'\.\([0-9]*\)\.pb\.gz$/\1/p' | sort -n | tr '\n' ' ')
want=$(seq 0 $((ncpu - 1)) | tr '\n' ' ')
[ "$seqs" = "$want" ] && pass dir_seq "periods numbered 0..$((ncpu - 1)) without a gap" ||
	fail dir_seq "sequence numbers '$seqs', want '$want'"
if go tool pprof -comments "$first" 2>/dev/null |
	grep -qx "cprof continuous: service=svc.api version=1.2.3 host=$HOST pid=$pid seq=0 tags=env:dev,team:core"; then
	pass dir_labels "each profile names its service, version, host, pid, period and tags"
else
	fail dir_labels "labels comment: $(go tool pprof -comments "$first" 2>&1 | grep continuous)"
fi
# The periods together cover the whole run: their CPU time is the program's.
samples=0
for f in "$S"/svc_api.cpu.*.pb.gz; do
	set -- $(raw_totals "$f")
	samples=$((samples + ${1:-0}))
done
# Each ending thread may add one period it used after its last signal (its tail).
read -r ratio lo hi < <(awk -v s="$samples" '{ c = $NF / 1e7; printf "%.3f %.3f %.3f", s / c, 0.95 - 1 / c, 1.05 + 3 / c }' "$T/svc.out")
in_range dir_cpu_adds_up "$ratio" "$lo" "$hi" "sampled CPU of all periods / the workers' CPU time at 100 Hz, 5% and 3 thread tails ($lo..$hi)"
[ "$(st "$T/dir.status" batches)" = "$ncpu" ] && [ "$(st "$T/dir.status" running)" = 0 ] &&
	[ "$(st "$T/dir.status" dropped_queue_full)" = 0 ] &&
	[ "$(st "$T/dir.status" files_written)" = "$(ls "$S" | grep -c '\.pb\.gz$')" ] &&
	pass dir_status "status: $ncpu periods, every file counted as written, nothing dropped" ||
	fail dir_status "$(tr '\n' ' ' <"$T/dir.status")"
out=$("$CPROF" continuous status "$T/dir.status")
echo "$out" | grep -q "pid $pid, service svc.api 1.2.3, exited" &&
	echo "$out" | grep -q "files        $(st "$T/dir.status" files_written) written" &&
	pass status_cli "cprof continuous status reads the status file" || fail status_cli "$out"
"$CPROF" continuous status "$T/nonexistent" 2>"$T/err" && fail status_cli_missing "exit 0" ||
	{ grep -q "^cprof: continuous: $T/nonexistent: No such file" "$T/err" &&
		pass status_cli_missing "a missing status file is an error naming it" ||
		fail status_cli_missing "$(cat "$T/err")"; }

# ---- exec, fork and children: each image keeps its own status ----
# exec_work runs pre_exec_work, then execs svc_work in the same process
# (same pid, same environment): the first image's last period is delivered
# and its status moves to STATUS.preexec.<pid>; the second image writes
# STATUS afresh and numbers its periods after the first image's.
X=$T/exec
env CPROF_CONTINUOUS=dir:$X CPROF_CONTINUOUS_PERIOD=300ms CPROF_SERVICE=x CPROF_CONTINUOUS_STATUS=$T/x.status \
	LD_PRELOAD=$LIB "$PROGS/exec_work" 400 "$PROGS/svc_work" 0.8 1 >"$T/exec.out"
xpid=$(sed -n 's/^pid //p' "$T/exec.out")
pre=$T/x.status.preexec.$xpid
if [ -f "$pre" ] && [ "$(st "$pre" pid)" = "$xpid" ] && [ "$(st "$pre" ended)" = exec ] && [ "$(st "$pre" running)" = 0 ] &&
	[ "$(st "$T/x.status" pid)" = "$xpid" ] && [ "$(st "$T/x.status" ended)" = exit ]; then
	pass exec_status "the exec'd image's status is STATUS.preexec.$xpid (ended exec), the new image's STATUS (ended exit)"
else
	fail exec_status "preexec: $(tr '\n' ' ' <"$pre" 2>/dev/null | cut -c1-200); status: $(tr '\n' ' ' <"$T/x.status" 2>/dev/null | cut -c1-200)"
fi
b1=$(st "$pre" batches) b2=$(st "$T/x.status" batches)
seqs=$(ls "$X" | sed -n 's/^x\.cpu\.[^.]*\.'"$xpid"'\.\([0-9]*\)\.pb\.gz$/\1/p' | sort -n | tr '\n' ' ')
want=$(seq 0 $((${b1:-0} + ${b2:-0} - 1)) | tr '\n' ' ')
[ -n "$b1" ] && [ -n "$b2" ] && [ "$seqs" = "$want" ] &&
	pass exec_periods "$b1 + $b2 periods of the two images, numbered 0..$((b1 + b2 - 1)): none overwritten" ||
	fail exec_periods "batches ${b1:-?} + ${b2:-?}, sequence numbers '$seqs'"
if go tool pprof -top -nodecount=100000 $(ls "$X"/x.cpu.*."$xpid".*.pb.gz | sort -t. -k5 -n | head -n "${b1:-1}") 2>/dev/null |
	grep -q pre_exec_work; then
	pass exec_last_period "the first image's CPU profiles, its last partial period included, hold pre_exec_work"
else
	fail exec_last_period "no pre_exec_work in the first $b1 CPU profiles"
fi
# A child that inherits the environment and execs (sh runs svc_work) is
# another process: STATUS.<its pid>; a fork child without exec writes nothing.
F=$T/forks
env CPROF_CONTINUOUS=dir:$F CPROF_CONTINUOUS_PERIOD=300ms CPROF_SERVICE=f CPROF_CONTINUOUS_STATUS=$T/f.status \
	LD_PRELOAD=$LIB sh -c '"$1" 0.4 1 >/dev/null; echo "sh $$"' sh "$PROGS/svc_work" >"$T/f.out"
shpid=$(sed -n 's/^sh //p' "$T/f.out")
others=$(ls "$T" | grep -c '^f\.status\.[0-9]*$')
child=$(ls "$T" | sed -n 's/^f\.status\.\([0-9]*\)$/\1/p' | head -1)
[ "$(st "$T/f.status" pid)" = "$shpid" ] && [ "$others" = 1 ] && [ "$(st "$T/f.status.$child" pid)" = "$child" ] &&
	pass child_exec_status "the shell keeps STATUS, its child svc_work (pid $child) writes STATUS.$child" ||
	fail child_exec_status "STATUS pid $(st "$T/f.status" pid) (shell $shpid), others: $(ls "$T" | grep '^f\.status' | tr '\n' ' ')"
env CPROF_CONTINUOUS=dir:$F CPROF_CONTINUOUS_PERIOD=300ms CPROF_SERVICE=g CPROF_CONTINUOUS_STATUS=$T/g.status \
	LD_PRELOAD=$LIB "$PROGS/fork_work" 300 >"$T/g.out"
[ "$(st "$T/g.status" pid)" != "$(cat "$T/g.out")" ] && [ "$(ls "$T" | grep -c '^g\.status')" = 1 ] &&
	[ "$(st "$T/g.status" ended)" = exit ] &&
	pass fork_status "a fork child (pid $(cat "$T/g.out")) leaves the parent's status alone and writes none" ||
	fail fork_status "status pid $(st "$T/g.status" pid), child $(cat "$T/g.out"), files: $(ls "$T" | grep '^g\.status' | tr '\n' ' ')"

# Names are kept between periods and read afresh after dlopen and dlclose:
# dlopen_loop loads a library, burns CPU in it, unloads it, and burns as
# much in the program, 60 times. Every period's CPU profile names both
# functions (dlwork_burn in a library loaded and unloaded since the names
# were first read), about half each.
D2=$T/dl
UNIT_S=$(unit_seconds)
per=$(units_for 0.01)
env CPROF_CONTINUOUS=dir:$D2 CPROF_CONTINUOUS_PERIOD=300ms CPROF_SERVICE=dl CPROF_CONTINUOUS_STATUS=$T/dl.status \
	CPROF_CPU_HZ=1000 LD_PRELOAD=$LIB "$PROGS/dlopen_loop" "$PROGS/libdlwork.so" 60 "$per" >/dev/null
lib_pct=$(cum_pct dlwork_burn "$D2"/dl.cpu.*.pb.gz)
main_pct=$(cum_pct main_burn "$D2"/dl.cpu.*.pb.gz)
reloads=$(st "$T/dl.status" symbol_cache_reloads)
in_range dlopen_names_lib "$lib_pct" 30 70 "% of all periods' samples in dlwork_burn, named after dlopen/dlclose (names read afresh $reloads times)"
in_range dlopen_names_main "$main_pct" 30 70 "% of all periods' samples in main_burn"
in_range dlopen_reloads "${reloads:-0}" 2 100000 "times the kept names were read afresh (once at the start, again after loader changes)"

# CPROF_CPUPROFILE and the collector both want the CPU profiler: the file
# the program asked for wins (it starts first and covers the whole run);
# the collector sends the other profiles, says so once, and names the
# reason in its status.
C=$T/conflict
env CPROF_CPUPROFILE=$T/whole.prof CPROF_CONTINUOUS=dir:$C CPROF_CONTINUOUS_PERIOD=300ms CPROF_SERVICE=c \
	CPROF_CONTINUOUS_STATUS=$T/c.status LD_PRELOAD=$LIB "$PROGS/svc_work" 1 2 >"$T/c.out" 2>"$T/c.err"
set -- $(raw_totals "$T/whole.prof")
read -r ratio lo hi < <(awk -v s="${1:-0}" '{ c = $NF / 1e7; printf "%.3f %.3f %.3f", s / c, 0.95 - 1 / c, 1.05 + 3 / c }' "$T/c.out")
in_range cpuprofile_wins "$ratio" "$lo" "$hi" "CPROF_CPUPROFILE's samples / the workers' CPU at 100 Hz, with the collector on"
ncpu=$(ls "$C" | grep -c '^c\.cpu\.')
nheap=$(ls "$C" | grep -c '^c\.heap\.')
[ "$ncpu" = 0 ] && [ "$nheap" -ge 2 ] && grep -q "CPROF_CPUPROFILE holds the CPU profiler" "$T/c.status" &&
	[ "$(grep -c 'another CPU profile runs' "$T/c.err")" = 1 ] &&
	pass cpuprofile_conflict "no CPU profiles sent, $nheap heap profiles; the status and one message say why" ||
	fail cpuprofile_conflict "cpu files $ncpu, heap files $nheap, skipped: $(st "$T/c.status" skipped); stderr: $(head -c 300 "$T/c.err")"

# ---- deltas over a known workload add up to its totals ----
# Every allocation recorded (CPROF_MEM_RATE=1): the allocs deltas of all
# periods at handle_alloc sum to exactly what svc_work allocated there, one
# object per request; the last heap snapshot holds exactly what it kept.
D=$T/delta
env CPROF_MEM_RATE=1 CPROF_CONTINUOUS=dir:$D CPROF_CONTINUOUS_PERIOD=300ms CPROF_SERVICE=d \
	CPROF_CONTINUOUS_STATUS=$T/delta.status LD_PRELOAD=$LIB "$PROGS/svc_work" 1.2 2 >"$T/delta.out"
read -r _ served _ allocated _ kept _ <"$T/delta.out"
focus() { # sample_index files...: the total at handle_alloc, in units
	local si=$1
	shift
	go tool pprof -sample_index="$si" -focus=handle_alloc -unit=byte -top "$@" 2>/dev/null |
		sed -n 's/^Showing nodes accounting for \([0-9]*\)B*,.*/\1/p'
}
# Two periods or more make the sum a sum of deltas; a sanitized build's
# slower writes (every allocation recorded) may fit only 3 in the run.
nalloc=$(ls "$D" | grep -c '^d\.allocs\.')
if [ "$nalloc" -ge 2 ]; then
	check_valid continuous_allocs "$(ls "$D"/d.allocs.*.pb.gz | head -1)"
	check_valid continuous_heap "$(ls "$D"/d.heap.*.pb.gz | head -1)"
	got=$(focus alloc_space "$D"/d.allocs.*.pb.gz)
	[ "$got" = "$allocated" ] && pass delta_allocs_bytes "$nalloc periods' alloc_space deltas sum to the $allocated bytes allocated" ||
		fail delta_allocs_bytes "sum of deltas ${got:-none}, allocated $allocated"
	got=$(go tool pprof -sample_index=alloc_objects -focus=handle_alloc -top "$D"/d.allocs.*.pb.gz 2>/dev/null |
		sed -n 's/^Showing nodes accounting for \([0-9]*\),.*/\1/p')
	[ "$got" = "$served" ] && pass delta_allocs_objects "alloc_objects deltas sum to the $served requests (one allocation each)" ||
		fail delta_allocs_objects "sum of deltas ${got:-none}, requests $served"
	last=$(ls "$D"/d.heap.*.pb.gz | sort -t. -k5 -n | tail -1)
	got=$(focus inuse_space "$last")
	[ "$got" = "$kept" ] && pass heap_snapshot "the last period's heap holds the $kept bytes kept until exit" ||
		fail heap_snapshot "in use ${got:-none}, kept $kept"
else
	fail delta_allocs "$nalloc allocs profiles; skipped: $(st "$T/delta.status" skipped)"
fi

# Block and mutex (every event: rate 1, fraction 1): the deltas of all
# periods add up to the cumulative profiles written at exit. block_sync's
# waits are sleeps under locks (a 200 ms hold, a 300 ms condition wait...),
# so there are waits however loaded the machine is.
W=$T/waits
env CPROF_BLOCKPROFILE=$T/block.prof CPROF_MUTEXPROFILE=$T/mutex.prof CPROF_CONTINUOUS=dir:$W \
	CPROF_CONTINUOUS_PERIOD=300ms CPROF_SERVICE=w CPROF_CONTINUOUS_STATUS=$T/waits.status LD_PRELOAD=$LIB \
	"$PROGS/block_sync" >/dev/null
# The program's own waits: the runtime's exit path may still wait on a lock
# after the collector's last period, and that wait is rightly in no period.
waiters='cond_waiter|fight_critical|hold_long|wait_short|rw_reader|rw_writer|sem_waiter|join_waiter|barrier_early'
total() { # sample_index files...
	local si=$1
	shift
	go tool pprof -sample_index="$si" -unit=ns -top -nodefraction=0 -nodecount=100000 -focus="$waiters" "$@" 2>/dev/null |
		sed -n 's/^Showing nodes accounting for \([0-9]*\)\(ns\)*, [0-9.]*% of \([0-9]*\)\(ns\)* total$/\1/p'
}
for k in block mutex; do
	n=$(ls "$W" | grep -c "^w\.$k\.")
	if [ "$n" -lt 3 ]; then
		fail "delta_$k" "$n $k profiles; skipped: $(st "$T/waits.status" skipped)"
		continue
	fi
	check_valid "continuous_$k" "$(ls "$W"/w.$k.*.pb.gz | head -1)"
	for si in contentions delay; do
		got=$(total "$si" "$W"/w.$k.*.pb.gz)
		want=$(total "$si" "$T/$k.prof")
		[ -n "$got" ] && [ "$got" = "$want" ] && [ "$want" -gt 0 ] &&
			pass "delta_${k}_$si" "$n periods' $si deltas under the program's waiting functions sum to the $want of the cumulative profile at exit" ||
			fail "delta_${k}_$si" "sum of deltas ${got:-none}, cumulative ${want:-none}"
	done
done

# ---- cprof pprof on the store: a window of one kind, merged ----
got=$("$CPROF" pprof -kind=allocs -since=1h -service=d -sample_index=alloc_space -focus=handle_alloc -unit=byte -top "$D" 2>/dev/null |
	sed -n 's/^Showing nodes accounting for \([0-9]*\)B*,.*/\1/p')
[ "$got" = "$allocated" ] && pass store_window "cprof pprof -kind=allocs -since=1h DIR merges every period: $got bytes" ||
	fail store_window "got ${got:-nothing}, want $allocated"
want=0
for f in "$D"/d.cpu.*.pb.gz; do
	set -- $(raw_totals "$f")
	want=$((want + ${1:-0}))
done
"$CPROF" pprof -proto -output="$T/merged.pb.gz" -since=1h "$D" 2>/dev/null
set -- $(raw_totals "$T/merged.pb.gz")
[ "${1:-x}" = "$want" ] && [ "$want" -gt 0 ] && pass store_kind_default "without -kind, the CPU profiles of the window are merged: $want samples" ||
	fail store_kind_default "merged ${1:-nothing} samples, want $want"
"$CPROF" pprof -top -kind=heap -since=2020-01-01T00:00:00Z -until=2020-01-02T00:00:00Z "$D" >/dev/null 2>"$T/err"
rc=$?
[ $rc -ne 0 ] && grep -q "no heap profiles in the window" "$T/err" &&
	pass store_empty_window "a window with no profiles is an error that says so" || fail store_empty_window "rc=$rc $(cat "$T/err")"
"$CPROF" pprof -top -service=nosuch -since=1h "$D" >/dev/null 2>"$T/err"
[ $? -ne 0 ] && grep -q "no cpu profiles of service nosuch" "$T/err" &&
	pass store_service_filter "-service selects by service" || fail store_service_filter "$(cat "$T/err")"
"$CPROF" pprof -top -since=yesterday "$D" >/dev/null 2>"$T/err"
[ $? -ne 0 ] && grep -q "^cprof: pprof: -since/-until: want a time" "$T/err" &&
	pass store_bad_time "a bad -since is refused with what to write" || fail store_bad_time "$(cat "$T/err")"

# ---- dir: retention by age, then by total size ----
R=$T/retain
mkdir -p "$R"
head -c 100 /dev/urandom >"$R/old.cpu.20200101T000000Z.1.0.pb.gz"
touch -d '2 days ago' "$R/old.cpu.20200101T000000Z.1.0.pb.gz"
head -c 40000 /dev/urandom >"$R/a.heap.20200101T000000Z.2.0.pb.gz"
touch -d '20 minutes ago' "$R/a.heap.20200101T000000Z.2.0.pb.gz"
head -c 40000 /dev/urandom >"$R/b.heap.20200101T000000Z.3.0.pb.gz"
touch -d '10 minutes ago' "$R/b.heap.20200101T000000Z.3.0.pb.gz"
echo keep >"$R/notes.txt"
touch -d '3 days ago' "$R/notes.txt"
CPROF_CONTINUOUS=dir:$R CPROF_CONTINUOUS_PERIOD=300ms CPROF_CONTINUOUS_MAX_AGE=1h CPROF_CONTINUOUS_MAX_BYTES=60K \
	CPROF_CONTINUOUS_STATUS=$T/ret.status CPROF_SERVICE=r LD_PRELOAD=$LIB "$PROGS/svc_work" 0.5 1 >/dev/null
if [ ! -e "$R/old.cpu.20200101T000000Z.1.0.pb.gz" ] && [ ! -e "$R/a.heap.20200101T000000Z.2.0.pb.gz" ] &&
	[ -e "$R/b.heap.20200101T000000Z.3.0.pb.gz" ] && [ -e "$R/notes.txt" ] && ls "$R" | grep -q '^r\.cpu\.'; then
	pass retention "the file past the age went, then the oldest until under the size; other files untouched"
else
	fail retention "left: $(ls "$R" | tr '\n' ' ')"
fi
total=$(find "$R" -name '*.pb.gz' -printf '%s\n' | awk '{ s += $1 } END { print s }')
in_range retention_size "$total" 1 61440 "bytes of stored profiles after retention (limit 60K)"
[ "$(st "$T/ret.status" files_removed)" = 2 ] && pass retention_counted "status counts the 2 files removed" ||
	fail retention_counted "files_removed $(st "$T/ret.status" files_removed)"

# ---- bad configuration: the program runs, the collector says why it is off ----
CPROF_CONTINUOUS=s3:bucket LD_PRELOAD=$LIB "$PROGS/svc_work" 0.1 1 >/dev/null 2>"$T/err"
rc=$?
[ $rc -eq 0 ] && grep -q "CPROF_CONTINUOUS=s3:bucket: want dir:PATH, pyroscope:URL or datadog:URL" "$T/err" &&
	pass bad_destination "an unknown destination is refused with a message; the program runs" ||
	fail bad_destination "rc=$rc $(cat "$T/err")"

# ---- receivers ----
# recv NAME MODE BEHAVIOUR EXPECT...: start a receiver; sets PORT and RDIR.
recv() {
	RDIR=$T/$1
	mkdir -p "$RDIR"
	shift
	python3 "$RECV" "$@" >/dev/null 2>"$RDIR/stderr" &
	RPID=$!
	for _ in $(seq 100); do
		[ -s "$RDIR/port" ] && break
		sleep 0.05
	done
	PORT=$(cat "$RDIR/port")
}
stop_recv() { kill "$RPID" 2>/dev/null; wait "$RPID" 2>/dev/null; }

# check_recv NAME MIN_CPU: every request well formed, enough CPU profiles, each kind decodes.
check_recv() {
	local name=$1 min=$2
	local bad ok
	bad=$(grep -c '^BAD' "$RDIR/log" 2>/dev/null)
	ok=$(grep -c '^OK cpu ' "$RDIR/log" 2>/dev/null)
	if [ "${bad:-0}" -eq 0 ] && [ "${ok:-0}" -ge "$min" ]; then
		pass "${name}_protocol" "$ok CPU profiles, every request checked field by field"
	else
		fail "${name}_protocol" "$(grep -m3 '^BAD' "$RDIR/log") (cpu profiles: ${ok:-0})"
	fi
	local kind f
	for kind in $(awk '$1 == "OK" { print $2 }' "$RDIR/log" | sort -u); do
		f=$(awk -v k="$kind" '$1 == "OK" && $2 == k { print $3; exit }' "$RDIR/log")
		check_valid "${name}_$kind" "$f"
	done
}

recv pyro pyroscope "$T/pyro" ok service=svc service_version=2.0 tags=env:prod,dc.name:west user=alice password=s3cret
CPROF_CONTINUOUS=pyroscope:http://127.0.0.1:$PORT/ CPROF_CONTINUOUS_PERIOD=400ms CPROF_SERVICE=svc \
	CPROF_SERVICE_VERSION=2.0 CPROF_TAGS=env:prod,dc.name:west CPROF_PYROSCOPE_USER=alice CPROF_PYROSCOPE_PASSWORD=s3cret \
	CPROF_CONTINUOUS_STATUS=$T/pyro.status LD_PRELOAD=$LIB "$PROGS/svc_work" 1.5 2 >/dev/null
stop_recv
check_recv pyroscope_basic 3
sent=$(st "$T/pyro.status" sent)
got=$(grep -c '^OK' "$RDIR/log")
[ "$sent" = "$got" ] && [ "$(st "$T/pyro.status" dropped_failed)" = 0 ] &&
	pass pyroscope_status "status counts the $sent profiles the receiver got" ||
	fail pyroscope_status "sent=$sent received=$got"

recv pyro2 pyroscope "$T/pyro2" ok service=svc2 token=tok-123 tenant=team-a
CPROF_CONTINUOUS=pyroscope:http://127.0.0.1:$PORT CPROF_CONTINUOUS_PERIOD=400ms CPROF_SERVICE=svc2 \
	CPROF_PYROSCOPE_TOKEN=tok-123 CPROF_PYROSCOPE_TENANT=team-a CPROF_CONTINUOUS_STATUS=$T/pyro2.status \
	LD_PRELOAD=$LIB "$PROGS/svc_work" 0.9 1 >/dev/null
stop_recv
check_recv pyroscope_token 2

recv dd datadog "$T/dd" ok service=svc3 service_version=9 tags=env:staging
CPROF_CONTINUOUS=datadog:http://127.0.0.1:$PORT CPROF_CONTINUOUS_PERIOD=400ms CPROF_SERVICE=svc3 \
	CPROF_SERVICE_VERSION=9 CPROF_TAGS=env:staging CPROF_CONTINUOUS_STATUS=$T/dd.status \
	LD_PRELOAD=$LIB "$PROGS/svc_work" 1.5 2 >/dev/null
stop_recv
check_recv datadog 3

# ---- failing backends: the program finishes, losses are bounded and accounted ----
# accounted NAME STATUS RECEIVED: every period was sent whole, dropped from
# the full queue, given up after retries, or dropped at the stop; every
# profile likewise; and the profiles counted as sent are the RECEIVED ones.
accounted() {
	local s=$2 got=$3
	local b sb q f x p sp qp fp xp lim
	b=$(st "$s" batches) sb=$(st "$s" sent_batches) q=$(st "$s" dropped_queue_full) f=$(st "$s" dropped_failed)
	x=$(st "$s" dropped_stop) p=$(st "$s" profiles) sp=$(st "$s" sent) qp=$(st "$s" dropped_queue_full_profiles)
	fp=$(st "$s" dropped_failed_profiles) xp=$(st "$s" dropped_stop_profiles) lim=$(st "$s" queue_limit)
	if [ -n "$b" ] && [ "$b" -ge 3 ] && [ $((sb + q + f + x)) -eq "$b" ] && [ $((sp + qp + fp + xp)) -eq "$p" ] &&
		[ "$sp" -eq "$got" ] && [ "$(st "$s" queued)" -le "$lim" ]; then
		pass "$1" "$b periods ($p profiles): $sb sent whole, $q ($qp) dropped as the queue ($lim) was full, $f ($fp) failed after retries, $x ($xp) at the stop; $sp profiles sent = received; last error: $(st "$s" last_error)"
	else
		fail "$1" "received $got; $(tr '\n' ' ' <"$s")"
	fi
}

recv r500 pyroscope "$T/r500" fail500 service=svc
CPROF_CONTINUOUS=pyroscope:http://127.0.0.1:$PORT CPROF_CONTINUOUS_PERIOD=200ms CPROF_CONTINUOUS_QUEUE=2 \
	CPROF_CONTINUOUS_RETRIES=1 CPROF_SERVICE=svc CPROF_CONTINUOUS_STATUS=$T/r500.status \
	timeout 30 env LD_PRELOAD=$LIB "$PROGS/svc_work" 1.2 1 >/dev/null
rc=$?
stop_recv
[ $rc -eq 0 ] && pass backend_500_runs "the program finished while the backend answered 500" || fail backend_500_runs "exit $rc"
accounted backend_500_accounted "$T/r500.status" 0
grep -q "HTTP 500" "$T/r500.status" && pass backend_500_reason "the status says why: HTTP 500" ||
	fail backend_500_reason "$(st "$T/r500.status" last_error)"

recv slow datadog "$T/slow" slow service=svc
CPROF_CONTINUOUS=datadog:http://127.0.0.1:$PORT CPROF_CONTINUOUS_PERIOD=200ms CPROF_CONTINUOUS_QUEUE=2 \
	CPROF_CONTINUOUS_RETRIES=0 CPROF_CONTINUOUS_TIMEOUT=300ms CPROF_SERVICE=svc CPROF_CONTINUOUS_STATUS=$T/slow.status \
	timeout 30 env LD_PRELOAD=$LIB "$PROGS/svc_work" 1.2 1 >/dev/null
rc=$?
stop_recv
[ $rc -eq 0 ] && pass backend_slow_runs "the program finished while the backend took 3 s per request" ||
	fail backend_slow_runs "exit $rc"
accounted backend_slow_accounted "$T/slow.status" 0
grep -qi "timeout\|timed out" "$T/slow.status" && pass backend_slow_reason "the status says why: a timeout" ||
	fail backend_slow_reason "$(st "$T/slow.status" last_error)"

# A backend that refuses every other request: some profiles of a period go
# through, some do not; the counts say exactly which.
recv flaky pyroscope "$T/flaky" flaky service=svc
CPROF_CONTINUOUS=pyroscope:http://127.0.0.1:$PORT CPROF_CONTINUOUS_PERIOD=200ms CPROF_CONTINUOUS_QUEUE=2 \
	CPROF_CONTINUOUS_RETRIES=0 CPROF_SERVICE=svc CPROF_CONTINUOUS_STATUS=$T/flaky.status \
	timeout 30 env LD_PRELOAD=$LIB "$PROGS/svc_work" 1.2 1 >/dev/null
stop_recv
accounted backend_flaky_accounted "$T/flaky.status" "$(grep -c '^OK' "$RDIR/log")"
[ "$(st "$T/flaky.status" sent)" -gt 0 ] && [ "$(st "$T/flaky.status" dropped_failed_profiles)" -gt 0 ] &&
	pass backend_flaky_partial "$(st "$T/flaky.status" sent) profiles delivered, $(st "$T/flaky.status" dropped_failed_profiles) refused and counted" ||
	fail backend_flaky_partial "$(tr '\n' ' ' <"$T/flaky.status")"

# A port nobody listens on.
dead=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
CPROF_CONTINUOUS=pyroscope:http://127.0.0.1:$dead CPROF_CONTINUOUS_PERIOD=200ms CPROF_CONTINUOUS_QUEUE=3 \
	CPROF_CONTINUOUS_RETRIES=2 CPROF_SERVICE=svc CPROF_CONTINUOUS_STATUS=$T/down.status \
	timeout 30 env LD_PRELOAD=$LIB "$PROGS/svc_work" 1.2 1 >/dev/null
rc=$?
[ $rc -eq 0 ] && pass backend_down_runs "the program finished with the backend down" || fail backend_down_runs "exit $rc"
accounted backend_down_accounted "$T/down.status" 0
