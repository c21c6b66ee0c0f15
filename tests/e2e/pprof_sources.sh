#!/usr/bin/env bash
# Where `cprof pprof` gets profiles from (src/cli/source/), checked against
# `go tool pprof`: gperftools' legacy CPU profiles recorded fresh with
# Debian's libprofiler.so (same report byte for byte with -symbolize=none,
# addresses adjusted as pprof adjusts them; local symbolization with inlined
# frames; PPROF_BINARY_PATH and the leading binary argument), and a live Go
# server (tests/data/gen_server) fetched over HTTP: heap, CPU with -seconds,
# host:port, saved copies, remote symbolization through /debug/pprof/symbol,
# and the errors for a 404, a pprof endpoint's text error, and a server
# that is down.
set -u
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
if ! command -v go >/dev/null 2>&1; then
	pass sources_skipped "go is not installed: nothing to compare against"
	exit 0
fi
export GOCACHE=$T/gocache GOFLAGS= GO111MODULE=off

same() { # name args... : cprof pprof and go tool pprof print the same stdout
	local name=$1
	shift
	"$CPROF" pprof "$@" >"$T/ours" 2>"$T/ours.err"
	local rc1=$?
	go tool pprof "$@" >"$T/theirs" 2>"$T/theirs.err"
	local rc2=$?
	if [ $rc1 -ne 0 ] || [ $rc2 -ne 0 ]; then
		fail "$name" "exit status $rc1, go tool pprof $rc2: $(head -c 300 "$T/ours.err")"
	elif cmp -s "$T/ours" "$T/theirs"; then
		pass "$name" "same as go tool pprof ($(wc -l <"$T/ours") lines)"
	else
		fail "$name" "$(diff "$T/ours" "$T/theirs" | head -6 | tr '\n' '|')"
	fi
}

has() { # name file pattern
	if grep -qF -- "$3" "$2"; then
		pass "$1" "has '$3'"
	else
		fail "$1" "no '$3' in: $(head -c 400 "$2" | tr '\n' '|')"
	fi
}

# ---- gperftools legacy CPU profiles ----
prof=/usr/lib/x86_64-linux-gnu/libprofiler.so.0
[ -e "$prof" ] || prof=/usr/lib/x86_64-linux-gnu/libprofiler.so
if [ ! -e "$prof" ]; then
	fail gperftools "libprofiler.so is not installed (scripts/deps.sh test installs libgoogle-perftools4)"
else
	mkdir -p "$T/bin" "$T/moved"
	cp "$PROGS/inline_work" "$T/bin/inline_work"
	LD_PRELOAD=$prof CPUPROFILE=$T/g.prof CPUPROFILE_FREQUENCY=1000 "$T/bin/inline_work" 400 >/dev/null 2>&1
	if [ ! -s "$T/g.prof" ]; then
		fail gperftools_record "libprofiler wrote no profile"
	else
		same "legacy -top -symbolize=none" -top -symbolize=none "$T/g.prof"
		same "legacy -top -addresses -symbolize=none" -top -addresses -symbolize=none "$T/g.prof"
		same "legacy -top -cum -symbolize=none" -top -cum -symbolize=none "$T/g.prof"
		same "legacy -text -nodecount=2 -symbolize=none" -text -nodecount=2 -symbolize=none "$T/g.prof"
		"$CPROF" pprof -top "$T/g.prof" >"$T/sym" 2>"$T/sym.err"
		has "legacy local inlined frame" "$T/sym" "mix_inline (inline)"
		has "legacy local caller" "$T/sym" " outer_work"
		"$CPROF" pprof -top -lines "$T/g.prof" >"$T/lines" 2>&1
		has "legacy local file:line" "$T/lines" "inline_work.c:"
		# The binary moved away: found again by PPROF_BINARY_PATH, or as the leading argument.
		mv "$T/bin/inline_work" "$T/moved/inline_work"
		"$CPROF" pprof -top "$T/g.prof" >"$T/nobin" 2>"$T/nobin.err"
		has "legacy binary missing" "$T/nobin" "[inline_work]"
		has "legacy binary missing note" "$T/nobin.err" "Local symbolization failed for inline_work"
		PPROF_BINARY_PATH=$T/moved "$CPROF" pprof -top "$T/g.prof" >"$T/bp" 2>&1
		has "legacy PPROF_BINARY_PATH" "$T/bp" "mix_inline (inline)"
		"$CPROF" pprof -top "$T/moved/inline_work" "$T/g.prof" >"$T/arg" 2>&1
		has "legacy binary argument" "$T/arg" "mix_inline (inline)"
	fi
fi
printf 'not a profile\n' >"$T/junk"
"$CPROF" pprof -top "$T/junk" >/dev/null 2>"$T/junk.err"
has "unrecognized file" "$T/junk.err" "parsing profile"

# ---- a live Go server ----
if ! go build -o "$T/srv" "$CPROF_TOP/tests/data/gen_server/main.go" 2>"$T/build.err"; then
	fail gen_server_build "$(head -c 300 "$T/build.err")"
	exit 0
fi
"$T/srv" "$T/port" &
srv=$!
trap 'kill $srv 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
port=$(cat "$T/port" 2>/dev/null)
if [ -z "$port" ]; then
	fail gen_server_start "no port after 5 s"
	exit 0
fi
url=http://127.0.0.1:$port
tmpd=$PPROF_TMPDIR

fetched() { # name saved-name args...: fetch, check the notices, compare on the saved copy
	local name=$1 saved=$2
	shift 2
	rm -f "$tmpd"/*
	"$CPROF" pprof "$@" >"$T/f.out" 2>"$T/f.err"
	has "$name fetching" "$T/f.err" "Fetching profile over HTTP from "
	has "$name saved" "$T/f.err" "Saved profile in $tmpd/$saved"
	if [ -s "$tmpd/$saved" ]; then
		"$CPROF" pprof -top "$tmpd/$saved" >"$T/f.saved" 2>&1
		if cmp -s "$T/f.out" "$T/f.saved"; then
			pass "$name report" "the fetched report is the saved copy's"
		else
			fail "$name report" "$(diff "$T/f.out" "$T/f.saved" | head -4 | tr '\n' '|')"
		fi
		same "$name saved copy" -top "$tmpd/$saved"
	fi
}
fetched heap pprof.srv.alloc_objects.alloc_space.inuse_objects.inuse_space.001.pb.gz -top "$url/debug/pprof/heap"
has "heap url" "$T/f.err" "from $url/debug/pprof/heap"
fetched cpu pprof.srv.samples.cpu.001.pb.gz -top -seconds=1 "127.0.0.1:$port"
has "cpu default path and seconds" "$T/f.err" "from $url/debug/pprof/profile?seconds=1"
has "cpu wait note" "$T/f.err" "Please wait... (1s)"
has "cpu type" "$T/f.out" "Type: cpu"
same "legacy over http, -symbolize=remote" -top -symbolize=remote "$url/debug/pprof/legacy"
same "legacy over http, -symbolize=remote -cum" -top -cum -symbolize=remote "$url/debug/pprof/legacy"

fails() { # name want-in-stderr url
	if "$CPROF" pprof -top "$3" >/dev/null 2>"$T/e.err"; then
		fail "$1" "exit status 0"
	else
		has "$1" "$T/e.err" "$2"
	fi
}
fails "404" "server response: 404 Not Found" "$url/debug/pprof/nosuch"
fails "pprof endpoint error" "server response: 400 Bad Request - profile duration exceeds" "$url/debug/pprof/fail"
kill $srv 2>/dev/null
wait $srv 2>/dev/null
fails "server down" "Couldn't connect to server" "$url/debug/pprof/heap"
exit 0
