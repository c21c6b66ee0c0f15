#!/usr/bin/env bash
# cpu_fork_exec.sh - profiles across fork and exec.
#
# fork: tests/progs/fork_work forks a child that runs child_work while the
# parent runs parent_work. FILE is the parent's profile and FILE.<childpid>
# the child's; each must be valid and hold its own function and not the
# other's.
#
# exec: a process that replaces its image keeps its pid. FILE must hold the
# exec'd image's profile; samples taken before the exec go to
# FILE.preexec.<pid> (only written when there are any). Checked with
# "sh -c 'exec prog'", with tests/progs/exec_work (works, then execv's
# cpu_split), and with "sh -c 'prog; true'" where the shell forks the
# program (FILE.<pid> is the program's). Nothing may be corrupt or left as
# a temporary file.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# has_not NAME FILE PRESENT ABSENT: FILE names PRESENT and not ABSENT.
has_not() {
	local name=$1 f=$2 yes=$3 no=$4 y n
	y=$(cum_pct "$yes" "$f")
	n=$(cum_pct "$no" "$f")
	if has_func "$f" "$yes" && ! has_func "$f" "$no"; then
		pass "$name" "$(basename "$f"): $yes $y% cum, $no absent"
	else
		fail "$name" "$(basename "$f"): $yes ${y}% cum (want present), $no ${n}% cum (want absent)"
	fi
}

# ---- fork ----
d=$T/fork
mkdir -p "$d"
child=$("$CPROF" run -cpuprofile="$d/cpu.prof" -- "$PROGS/fork_work" 1600 2>"$d/err")
st=$?
if [ "$st" -ne 0 ] || ! is_num "$child"; then
	fail fork_run "cprof run exited $st, printed '$child': $(tail -n 3 "$d/err" | tr '\n' ' ')"
else
	files=$(files_in "$d")
	if [ -s "$d/cpu.prof" ] && [ -s "$d/cpu.prof.$child" ]; then
		pass fork_files "parent cpu.prof and child cpu.prof.$child written (files: $files)"
	else
		fail fork_files "want cpu.prof and cpu.prof.$child, have: $files"
	fi
	check_valid fork_parent "$d/cpu.prof"
	check_valid fork_child "$d/cpu.prof.$child"
	has_not fork_parent_own "$d/cpu.prof" parent_work child_work
	has_not fork_child_own "$d/cpu.prof.$child" child_work parent_work
	n=$(grep -c '^cprof: cpu profile of pid' "$d/err")
	in_range fork_summary "$n" 2 2 "2 profiles reported by cprof run"
	no_temp_files "$d" fork_no_temp
fi

# ---- sh -c 'exec prog' ----
d=$T/shexec
mkdir -p "$d"
"$CPROF" run -cpuprofile="$d/cpu.prof" -- sh -c "exec '$PROGS/cpu_split' 1000" >/dev/null 2>"$d/err"
st=$?
if [ "$st" -ne 0 ]; then
	fail sh_exec_run "cprof run exited $st: $(tail -n 3 "$d/err" | tr '\n' ' ')"
else
	check_valid sh_exec "$d/cpu.prof"
	in_range sh_exec_main "$(cum_pct main "$d/cpu.prof")" 99.5 100 "the exec'd cpu_split's main at 100% cum"
	if has_func "$d/cpu.prof" func_sixty; then
		pass sh_exec_image "cpu_split's func_sixty present, $(cum_pct func_sixty "$d/cpu.prof")% cum"
	else
		fail sh_exec_image "cpu.prof has no func_sixty: not the exec'd image's profile"
	fi
	extra=0
	for f in "$d"/cpu.prof.*; do
		[ -e "$f" ] || continue
		case "$f" in *.preexec.*) check_valid "sh_exec_$(basename "$f")" "$f" ;; *) extra=$((extra + 1)) ;; esac
	done
	in_range sh_exec_no_stray "$extra" 0 0 "no cpu.prof.<pid> besides preexec files; have $(files_in "$d")"
	no_temp_files "$d" sh_exec_no_temp
fi

# ---- a program that works, then execv's another ----
d=$T/exec
mkdir -p "$d"
out=$("$CPROF" run -cpuprofile="$d/cpu.prof" -- "$PROGS/exec_work" 600 "$PROGS/cpu_split" 600 2>"$d/err")
st=$?
pid=$(echo "$out" | awk '$1 == "pid" { print $2 }')
if [ "$st" -ne 0 ] || ! is_num "$pid"; then
	fail exec_run "cprof run exited $st, printed '$out': $(tail -n 3 "$d/err" | tr '\n' ' ')"
else
	check_valid exec_image "$d/cpu.prof"
	check_valid exec_preexec "$d/cpu.prof.preexec.$pid"
	has_not exec_image_own "$d/cpu.prof" func_sixty pre_exec_work
	has_not exec_preexec_own "$d/cpu.prof.preexec.$pid" pre_exec_work func_sixty
	in_range exec_image_main "$(cum_pct main "$d/cpu.prof")" 99.5 100 "the exec'd cpu_split's main at 100% cum"
	n=$(set -- "$d"/cpu.prof*; echo $#)
	in_range exec_files "$n" 2 2 "2 files, cpu.prof and cpu.prof.preexec.$pid; have $(files_in "$d")"
	no_temp_files "$d" exec_no_temp
fi

# ---- the shell forks the program ----
d=$T/shfork
mkdir -p "$d"
"$CPROF" run -cpuprofile="$d/cpu.prof" -- sh -c "'$PROGS/cpu_split' 600; true" >/dev/null 2>"$d/err"
st=$?
if [ "$st" -ne 0 ]; then
	fail sh_fork_run "cprof run exited $st: $(tail -n 3 "$d/err" | tr '\n' ' ')"
else
	prog_prof=
	for f in "$d"/cpu.prof.*; do
		[ -e "$f" ] || continue
		check_valid "sh_fork_$(basename "$f")" "$f"
		case "$f" in *.preexec.*) ;; *) has_func "$f" func_sixty && prog_prof=$f ;; esac
	done
	[ -e "$d/cpu.prof" ] && check_valid sh_fork_shell "$d/cpu.prof"
	if [ -n "$prog_prof" ]; then
		in_range sh_fork_prog_main "$(cum_pct main "$prog_prof")" 99.5 100 "cpu_split's profile $(basename "$prog_prof"): main at 100% cum"
	else
		fail sh_fork_prog "no cpu.prof.<pid> holds cpu_split's samples; have $(files_in "$d")"
	fi
	info "sh -c 'prog; true' wrote: $(files_in "$d")"
	no_temp_files "$d" sh_fork_no_temp
fi
