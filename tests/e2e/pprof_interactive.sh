#!/usr/bin/env bash
# `cprof pprof FILE` with no output format: the interactive shell. Each
# session is a command script piped into both `cprof pprof` and
# `go tool pprof`; stdout (prompts and reports) must match byte for byte,
# and so must stderr (greeting, help, options, errors) where noted. Then
# pprof_interactive_pty.py drives cprof on a pseudo-terminal: libedit line
# editing, tab completion of commands, options and function names, history.
# Prints "PASS <name>" or "FAIL <name>: <first differing lines>".
set -u
top=${CPROF_TOP:?} build=${CPROF_BUILD:?}
cprof=$build/bin/cprof
d=$top/tests/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home PPROF_TMPDIR=$tmp/pprof GOCACHE=$tmp/gocache GOFLAGS=
mkdir -p "$HOME" "$PPROF_TMPDIR" "$tmp/ours" "$tmp/theirs"

have_go=1
if ! command -v go >/dev/null 2>&1; then
	have_go=0
	echo "INFO go is not installed: sessions are not compared with go tool pprof"
fi

# session NAME STREAMS SCRIPT FLAGS... FILE: STREAMS is "out" or "out+err".
# Each side runs in its own directory, so files the session writes can be compared.
session() {
	local name=$1 streams=$2 script=$3; shift 3
	[ $have_go = 1 ] || return 0
	rm -rf "$tmp/ours" "$tmp/theirs" && mkdir -p "$tmp/ours" "$tmp/theirs"
	(cd "$tmp/ours" && printf '%b' "$script" | "$cprof" pprof "$@" >../o.out 2>../o.err)
	local rc1=$?
	(cd "$tmp/theirs" && printf '%b' "$script" | go tool pprof "$@" >../t.out 2>../t.err)
	local rc2=$?
	if [ $rc1 -ne $rc2 ]; then
		echo "FAIL $name: exit status $rc1, go tool pprof $rc2: $(head -c 300 "$tmp/o.err")"
	elif ! cmp -s "$tmp/o.out" "$tmp/t.out"; then
		echo "FAIL $name: stdout: $(diff "$tmp/o.out" "$tmp/t.out" | head -8 | tr '\n' '|')"
	elif [ "$streams" = out+err ] && ! cmp -s "$tmp/o.err" "$tmp/t.err"; then
		echo "FAIL $name: stderr: $(diff "$tmp/o.err" "$tmp/t.err" | head -8 | tr '\n' '|')"
	else
		echo "PASS $name"
	fi
}

# The commands cprof offers: its `help` lists them between "Commands:" and "o/options".
printf 'help\n' | "$cprof" pprof "$d/go-cpu.pb.gz" 2>"$tmp/help" >/dev/null
commands=$(sed -n '/^  Commands:/,/o\/options/p' "$tmp/help" | awk 'NR > 1 && $1 != "o/options" {print $1}')
has() { printf '%s\n' "$commands" | grep -qx "$1"; }
for c in top text; do
	has $c || echo "FAIL commands: help does not list $c"
done

cpu=$d/go-cpu.pb.gz heap=$d/go-heap.pb.gz
session "top, top5 -cum, text" out+err 'top\ntop5 -cum\ntop3\ntext\ntop -cum 2\n' "$cpu"
session "heap sample_index switches" out+err \
	'top\nalloc_space\ntop5\ninuse_objects\ntop -cum\nsample_index=0\ntop3\nmean_alloc_space\ntop\ntotal_alloc_space\ntop\nsample_index=nosuch\nsample_index=7\nsample_index=inuse_space\ntop2\no\n' "$heap"
session "block/mutex shortcuts" out+err 'contentions\ntop\ndelay\ntop -cum\nmean_delay\ntop\n' "$d/go-block.pb.gz"
session "mutex total_ and mean_" out+err 'mean_delay\ntop\ntotal_delay\ntop\n' "$d/go-mutex.pb.gz"
session "focus and ignore regexes" out+err \
	'top sha256\ntop runtime -Sum256\ntop main time|block\nfocus=sha\ntop\nignore=Write\ntop\n:\ntop\n' "$cpu"
session "options set, listed and rejected" out+err \
	'o\nnodecount=5\ncum\nsort=cum\ngranularity=lines\nmean\nnodefraction=0.0000001\nunit=ms //: a comment\ndivide_by=2.5\ntrim=no\no\nnodecount=x\nnodefraction=y\nmean=z\nsort=zz\nfocus\nnodecount 3\nfoo=1\nfrob\ntop4x\n' "$heap"
session "options persist, command line ones do not" out+err \
	'nodecount=3\ntop\ntop 5 -cum\ntop\nnodecount=-1\ntop\n' "$cpu"
session "flags as initial options" out+err 'top\no\n' -cum -nodecount=3 -inuse_objects "$heap"
session "mean_delay flag" out+err 'o\ntop\n' -mean_delay "$d/go-block.pb.gz"
session "end of input without newline, quit, exit" out+err 'top3' "$cpu"
session "quit" out+err 'q\ntop\n' "$cpu"
session "exit" out+err 'exit\ntop\n' "$cpu"
session "merged profiles" out+err 'top\n' "$cpu" "$d/go-cpu-many.pb.gz"

# > redirection: the same files, the same "Generating report in" notes.
if [ $have_go = 1 ]; then
	session "top >file" out+err 'top >a.txt\ntop5 -cum > b.txt\ntop >\n' "$cpu"
	if cmp -s "$tmp/ours/a.txt" "$tmp/theirs/a.txt" && cmp -s "$tmp/ours/b.txt" "$tmp/theirs/b.txt"; then
		echo "PASS >file contents"
	else
		echo "FAIL >file contents: $(diff "$tmp/ours/a.txt" "$tmp/theirs/a.txt" 2>&1 | head -4 | tr '\n' '|')"
	fi
fi

# help: every command and option help text. The command list leaves out the
# go tool pprof commands cprof has not got; the rest must be identical.
script='help\nhelp nodecount\nhelp sample_index\nhelp cum\nhelp lines\nhelp output\nhelp xyz\nhelp sort\n'
for c in $commands; do script="${script}help $c\n"; done
if [ $have_go = 1 ]; then
	session "help" out "$script" "$heap"
	missing=$(sed -n '/^  Commands:/,/o\/options/p' "$tmp/t.err" | awk 'NR > 1 {print $1}' |
		while read -r c; do has "$c" || [ "$c" = o/options ] || [ "$c" = q/quit/exit/^D ] || echo "$c"; done)
	missing=$(printf '%s\n' "$missing" | paste -sd' ')
	[ -z "$missing" ] || echo "INFO commands of go tool pprof that cprof has not got: $missing"
	pat="^    (${missing// /|}) "
	[ -n "$missing" ] || pat='^never matched$'
	grep -Ev "$pat" "$tmp/t.err" >"$tmp/t.err2"
	if cmp -s "$tmp/o.err" "$tmp/t.err2"; then
		echo "PASS help texts"
	else
		echo "FAIL help texts: $(diff "$tmp/o.err" "$tmp/t.err2" | head -8 | tr '\n' '|')"
	fi
fi

# Every other text report through the shell, when cprof has it.
for c in traces tree tags comments raw "peek main" "tree 3 -cum" "list main.burn"; do
	has "${c%% *}" || continue
	session "report: $c" out "$c\n" "$cpu"
done
for c in traces tags; do
	has "$c" || continue
	session "report: $c (heap)" out "$c\n" "$heap"
done
# Binary and graph formats go to profileNNN.<ext> files instead of the terminal.
for c in svg dot proto callgrind; do
	has "$c" || continue
	session "report: $c" out+err "$c\n$c\n" "$cpu"
done

# Errors of the shell itself, without go: a command that does not exist.
printf 'frobnicate\ntop3\n' | "$cprof" pprof "$cpu" >"$tmp/e.out" 2>"$tmp/e.err"
if grep -q 'unrecognized command: "frobnicate"' "$tmp/e.err" && grep -q 'Showing top 3 nodes' "$tmp/e.out"; then
	echo "PASS unknown command, then a report"
else
	echo "FAIL unknown command, then a report: $(head -3 "$tmp/e.err" | tr '\n' '|')"
fi

# The pseudo-terminal: libedit, completion, history.
if command -v python3 >/dev/null 2>&1; then
	python3 "$top/tests/e2e/pprof_interactive_pty.py" "$cprof" "$d" ||
		echo "FAIL pty: pprof_interactive_pty.py exited with status $?"
else
	echo "INFO python3 is not installed: the terminal session is not tested"
fi
exit 0
