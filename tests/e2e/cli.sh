#!/usr/bin/env bash
# The cprof command line as a user meets it: help, version, clear errors
# for wrong flags and missing programs, and make install producing a tree
# that a program can build and link against with pkg-config.
set -u
top=$CPROF_TOP
b=$CPROF_BUILD
cprof=$b/bin/cprof
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # name condition-description command...
	local name=$1 what=$2
	shift 2
	if "$@"; then echo "PASS $name"; else echo "FAIL $name: $what"; fi
}

# Run cprof, capturing status, stdout and stderr.
run() {
	"$cprof" "$@" >"$tmp/out" 2>"$tmp/err"
	status=$?
}

run version
check version "prints its version" grep -q '^cprof version [0-9]' "$tmp/out"

run help
check help_lists_commands "help lists run and pprof" \
	sh -c "grep -q '  run ' '$tmp/out' && grep -q '  pprof ' '$tmp/out' && [ $status -eq 0 ]"
run help run
check help_run "help run documents -cpuprofile and -hz" \
	sh -c "grep -q -- '-cpuprofile=FILE' '$tmp/out' && grep -q -- '-hz=N' '$tmp/out'"
run help pprof
check help_pprof "help pprof documents -top" grep -q -- '-top' "$tmp/out"
run help nosuch
check help_unknown "unknown help topic is an error naming it" \
	sh -c "[ $status -ne 0 ] && grep -q \"unknown command 'nosuch'\" '$tmp/err'"

run frobnicate
check unknown_command "unknown command exits 2 with a message" \
	sh -c "[ $status -eq 2 ] && grep -q '^cprof: unknown command' '$tmp/err'"
run
check no_args "no arguments prints usage and exits 2" sh -c "[ $status -eq 2 ] && grep -q Usage '$tmp/err'"

run run -cpuprofile="$tmp/x.prof" -bogus -- /bin/true
check run_bad_flag "unknown run flag is refused" \
	sh -c "[ $status -eq 2 ] && grep -q 'unknown flag -bogus' '$tmp/err' && [ ! -e '$tmp/x.prof' ]"
run run -cpuprofile="$tmp/x.prof" -hz=0 -- /bin/true
check run_bad_hz "-hz=0 is refused with the valid range" \
	sh -c "[ $status -eq 2 ] && grep -q 'from 1 to 10000' '$tmp/err'"
run run -cpuprofile="$tmp/x.prof" -hz=abc -- /bin/true
check run_bad_hz_text "-hz=abc is refused" sh -c "[ $status -eq 2 ]"
run run -cpuprofile="$tmp/x.prof" -unwind=magic -- /bin/true
check run_bad_unwind "-unwind=magic is refused" sh -c "[ $status -eq 2 ] && grep -q 'dwarf or fp' '$tmp/err'"
run run -- /bin/true
check run_no_profile "run without a profile flag says which flag to add" \
	sh -c "[ $status -eq 2 ] && grep -q -- '-cpuprofile=FILE' '$tmp/err'"
run run -cpuprofile="$tmp/x.prof"
check run_no_program "run without a program is an error" sh -c "[ $status -eq 2 ]"
run run -cpuprofile="$tmp/x.prof" -- "$tmp/does-not-exist"
check run_missing_program "a missing program exits 127 with a message" \
	sh -c "[ $status -eq 127 ] && grep -q 'not found' '$tmp/err'"
run run -cpuprofile="$tmp/x.prof" -- sh -c 'exit 7'
check run_exit_status "the program's exit status is cprof run's" sh -c "[ $status -eq 7 ]"
run run -q -cpuprofile="$tmp/x.prof" -- sh -c 'kill -KILL $$'
check run_signal_status "a program killed by signal 9 gives 137" sh -c "[ $status -eq 137 ]"

# A statically linked program cannot take LD_PRELOAD: refused with advice.
if printf 'int main(void){return 0;}\n' | cc -static -x c -o "$tmp/static" - 2>/dev/null; then
	run run -cpuprofile="$tmp/x.prof" -- "$tmp/static"
	check run_static_refused "a static program is refused, pointing at -lcprof" \
		sh -c "[ $status -eq 2 ] && grep -q 'statically linked' '$tmp/err' && grep -q -- '-lcprof' '$tmp/err'"
else
	echo "INFO run_static_refused: no static libc here; check skipped"
fi

run pprof -top "$tmp/does-not-exist.prof"
check pprof_missing_file "pprof on a missing file fails with its name" \
	sh -c "[ $status -ne 0 ] && grep -q 'does-not-exist.prof' '$tmp/err'"
printf 'this is not a profile' >"$tmp/junk.prof"
run pprof -top "$tmp/junk.prof"
check pprof_junk_file "pprof on a non-profile fails cleanly" sh -c "[ $status -ne 0 ] && [ -s '$tmp/err' ]"

# make install into a staging tree, then build and run a program against it.
san=""
case "$b" in *build-san*) san="SAN=address,undefined" ;; esac
if make -s -C "$top" $san install DESTDIR="$tmp/stage" PREFIX=/opt/cprof >"$tmp/install.log" 2>&1; then
	p=$tmp/stage/opt/cprof
	ok=1
	for f in bin/cprof lib/libcprof.so lib/libcprof.a include/cprof.h lib/pkgconfig/cprof.pc; do
		[ -e "$p/$f" ] || { ok=0; echo "FAIL install_files: $f missing"; }
	done
	[ $ok = 1 ] && echo "PASS install_files"
	# The .pc file names the prefix it was installed for; point pkg-config at the staged copy.
	sed "s|^prefix=.*|prefix=$p|" "$p/lib/pkgconfig/cprof.pc" >"$tmp/cprof.pc"
	flags=$(PKG_CONFIG_PATH=$tmp pkg-config --cflags --libs cprof)
	if cc -O2 -o "$tmp/api" "$top/examples/api_linked.c" $flags -Wl,-rpath,"$p/lib" 2>"$tmp/cc.log" &&
		"$tmp/api" "$tmp/api.prof" >"$tmp/api.out" 2>&1 && "$p/bin/cprof" pprof -top "$tmp/api.prof" >"$tmp/api.top" 2>&1 &&
		grep -q interesting_phase "$tmp/api.top"; then
		echo "PASS install_pkgconfig_link: a program built with pkg-config cprof profiles itself"
	else
		echo "FAIL install_pkgconfig_link: $(cat "$tmp/cc.log" "$tmp/api.out" 2>/dev/null | head -5)"
	fi
	# The installed cprof finds its runtime at ../lib.
	if "$p/bin/cprof" run -q -cpuprofile="$tmp/inst.prof" -- "$b/examples/hotspots" >/dev/null 2>&1 &&
		[ -s "$tmp/inst.prof" ]; then
		echo "PASS install_run: installed cprof run finds ../lib/libcprof.so"
	else
		echo "FAIL install_run: installed cprof run wrote no profile"
	fi
else
	echo "FAIL install: make install failed: $(tail -5 "$tmp/install.log")"
fi
