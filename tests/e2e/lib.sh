# lib.sh - helpers shared by the end-to-end scripts of tests/e2e. Sourced,
# not run (tests/run.sh skips it). Needs CPROF_TOP and CPROF_BUILD, which
# tests/run.sh exports.
#
# Gives each script a temporary directory $T (removed at exit), points HOME
# and PPROF_TMPDIR into it for go tool pprof, and provides:
#   pass/fail/info            print the runner's PASS/FAIL/INFO lines
#   in_range NAME V LO HI W   PASS when LO <= V <= HI, printing V and W
#   cprof_run ERR ARGS...     cprof run with stderr to ERR (stdout kept)
#   check_valid NAME FILE     go tool pprof -raw and -top accept FILE silently
#   cum_pct FUNC FILES...     FUNC's cum% in go tool pprof -top (FILES merged)
#   raw_totals FILE           "<samples> <cpu nanoseconds>" summed over samples
#   run_deliveries ERR FILE   signals handled, from cprof run's summary line
#   binomial_note P N BOUND   INFO line: binomial sigma and bound in sigmas
set -u

: "${CPROF_TOP:?set by tests/run.sh}" "${CPROF_BUILD:?set by tests/run.sh}"
CPROF=$CPROF_BUILD/bin/cprof
PROGS=$CPROF_BUILD/tests/progs
T=$(mktemp -d "${TMPDIR:-/tmp}/cprof-e2e.XXXXXX")
trap 'rm -rf "$T"' EXIT
export HOME=$T/home PPROF_TMPDIR=$T/pprof
mkdir -p "$HOME" "$PPROF_TMPDIR"
# A test must not be steered by the caller's profiling environment.
unset CPROF_CPUPROFILE CPROF_CPU_HZ CPROF_UNWIND CPROF_MAX_DEPTH CPROF_QUIET CPROF_OWNER_PID CPROF_REPORT LD_PRELOAD

pass() { echo "PASS $1: $2"; }
fail() { echo "FAIL $1: $2"; }
info() { echo "INFO $*"; }

# is_num V: V is a decimal number.
is_num() {
	case "$1" in '' | *[!0-9.-]*) return 1 ;; esac
	return 0
}

in_range() { # name value lo hi want-text
	if is_num "$2" && awk -v v="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v + 0 >= lo && v + 0 <= hi) }'; then
		pass "$1" "$2 (want $5)"
	else
		fail "$1" "${2:-nothing measured} (want $5)"
	fi
}

# cprof_run ERRFILE args...: cprof run with stderr kept for the summary lines.
cprof_run() {
	local err=$1
	shift
	"$CPROF" run "$@" 2>"$err"
}

# check_valid NAME FILE: go tool pprof reads FILE with -raw and with -top,
# exits 0 and writes nothing at all on stderr. One PASS or FAIL line.
check_valid() {
	local name=$1 f=$2 mode rc
	if [ ! -s "$f" ]; then
		fail "valid_$name" "$f is missing or empty"
		return 1
	fi
	for mode in -raw -top; do
		go tool pprof "$mode" "$f" >"$T/valid.out" 2>"$T/valid.err"
		rc=$?
		if [ "$rc" -ne 0 ] || [ -s "$T/valid.err" ]; then
			fail "valid_$name" "go tool pprof $mode $(basename "$f"): exit $rc, stderr: $(head -c 300 "$T/valid.err" | tr '\n' ' ')"
			return 1
		fi
	done
	pass "valid_$name" "go tool pprof -raw/-top: exit 0, no stderr, $(raw_totals "$f" | cut -d' ' -f1) samples"
}

# cum_pct FUNC FILES...: FUNC's cum% (without the % sign) in
# `go tool pprof -top -cum` over FILES (merged); an inlined FUNC matches
# "FUNC (inline)". Prints 0 when FUNC is absent.
cum_pct() {
	local fn=$1
	shift
	go tool pprof -top -cum -nodefraction=0 -nodecount=100000 "$@" 2>/dev/null |
		awk -v fn="$fn" '
		$5 ~ /%$/ {
			name = $6
			for (i = 7; i <= NF; i++) name = name " " $i
			if (name == fn || name == fn " (inline)") { v = $5; sub(/%/, "", v); found = 1; exit }
		}
		END { print found ? v : 0 }'
}

# raw_totals FILE: "<samples/count> <cpu/nanoseconds>" summed over all samples.
raw_totals() {
	go tool pprof -raw "$1" 2>/dev/null | awk '
		/^Samples:/ { s = 1; next }
		/^Locations/ { s = 0 }
		s && $2 ~ /^[0-9]+:$/ { c += $1; n += $2 }
		END { printf "%.0f %.0f\n", c, n }'
}

# has_func FILE FUNC: FUNC names a function of some sample in FILE.
has_func() {
	go tool pprof -raw "$1" 2>/dev/null | awk -v fn="$2" '
		/^Locations/ { l = 1; next }
		/^Mappings/ { l = 0 }
		l {
			# "  N: 0xADDR M=K func file:line s=S" or an inlined "   func file:line s=S"
			for (i = 1; i <= NF; i++) if ($i == fn) { found = 1; exit }
		}
		END { exit !found }'
}

# run_deliveries ERRFILE PROFILE: timer signals handled ("N samples") in
# cprof run's summary line for PROFILE; the sum over all lines when PROFILE
# is "all". These, not the overrun-weighted counts, are the independent
# draws of the binomial model.
run_deliveries() {
	awk -v p="$2" '
		/^cprof: cpu profile of pid/ {
			for (i = 1; i <= NF; i++) if ($i == "to") path = $(i + 1)
			sub(/:$/, "", path)
			for (i = 1; i <= NF; i++) if ($i ~ /^samples,?$/) n = $(i - 1)
			if (p == "all" || path == p) t += n
		}
		END { print t + 0 }' "$1"
}

# binomial_note P N BOUND_POINTS: the binomial standard error of a share P
# estimated from N independent samples, and how many of them BOUND is.
binomial_note() {
	awk -v p="$1" -v n="$2" -v b="$3" 'BEGIN {
		if (n <= 0) { print "INFO binomial: no samples"; exit }
		s = 100 * sqrt(p * (1 - p) / n)
		printf "INFO binomial: p=%.2f n=%d sigma=%.2f points; bound %.1f points = %.1f sigma\n", p, n, s, b, b / s
	}'
}

# no_temp_files DIR NAME: the runtime left no "*.tmp.<pid>" beside its profiles.
no_temp_files() {
	local left
	left=$(find "$1" -maxdepth 1 -name '*.tmp.*' | head -5 | tr '\n' ' ')
	if [ -z "$left" ]; then
		pass "$2" "no temporary files left in $(basename "$1")"
	else
		fail "$2" "temporary files left: $left"
	fi
}

# cpu_seconds RUSAGE_FILE: user+system seconds written by rusage_exec.
cpu_seconds() {
	awk '{ printf "%.3f\n", $1 + $2 }' "$1"
}

# Every workload in tests/progs repeats the same 200000-step xorshift loop,
# the "unit". unit_seconds measures the CPU time of one on this machine, so
# that scripts size their workloads in CPU seconds (and so in samples).
unit_seconds() {
	"$PROGS/rusage_exec" "$T/calibrate" "$PROGS/cpu_split" 400 >/dev/null 2>&1
	awk '{ s = ($1 + $2) / 400; if (s < 0.00005) s = 0.00005; printf "%.9f\n", s }' "$T/calibrate"
}

# units_for SECONDS: how many units take SECONDS of CPU (needs UNIT_S).
units_for() {
	awk -v s="$1" -v u="$UNIT_S" 'BEGIN { n = int(s / u + 0.5); print (n > 0 ? n : 1) }'
}

# files_in DIR: the names in DIR, space-separated, without the scripts' own
# "err" and "pid" files.
files_in() {
	local f out=
	for f in "$1"/* "$1"/.[!.]*; do
		[ -e "$f" ] || continue
		case "${f##*/}" in err | pid) continue ;; esac
		out="$out${f##*/} "
	done
	echo "$out"
}

# flat_value FILE SAMPLE_INDEX FUNC: FUNC's flat value of that sample type in
# go tool pprof -top (bytes as plain numbers, -unit=B); inlined copies of
# FUNC are added in. Prints 0 when FUNC is absent. Extra go tool pprof
# flags (such as -tagfocus=...) may follow.
flat_value() {
	local f=$1 idx=$2 fn=$3
	shift 3
	go tool pprof -top -sample_index="$idx" -unit=B -nodecount=100000 -nodefraction=0 -edgefraction=0 "$@" "$f" 2>/dev/null |
		awk -v fn="$fn" '
		$5 ~ /%$/ {
			name = $6
			for (i = 7; i <= NF; i++) name = name " " $i
			if (name == fn || name == fn " (inline)") { v = $1; sub(/B$/, "", v); s += v; found = 1 }
		}
		END { printf "%.0f\n", found ? s : 0 }'
}

# poisson_note NAME RATE SIZE COUNT BOUND_PCT: INFO line with the relative
# standard error of the heap sampler's estimate of COUNT allocations of SIZE
# bytes at RATE (each sampled with p = 1 - exp(-SIZE/RATE), weighted 1/p),
# and how many sigmas BOUND_PCT is.
poisson_note() {
	awk -v n="$1" -v r="$2" -v s="$3" -v c="$4" -v b="$5" 'BEGIN {
		p = 1 - exp(-s / r)
		rel = 100 * sqrt((1 - p) / (c * p))
		printf "INFO poisson %s: %d x %d B, p=%.3g, %.0f samples expected, sigma=%.2f%%; bound %s%% = %.1f sigma\n",
			n, c, s, p, c * p, rel, b, (rel > 0 ? b / rel : 999)
	}'
}
