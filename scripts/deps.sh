#!/bin/sh
# Installs what cprof needs when it is missing: build, test or bench.
# Debian/Ubuntu: apt-get (through sudo when not root). Elsewhere it prints
# the Debian package names and exits non-zero.
#
#   scripts/deps.sh build|test|bench
set -u
group=${1:-build}

have_header() { printf '#include <%s>\n' "$1" | ${CC:-cc} -E -x c - >/dev/null 2>&1; }
missing=""
need() { missing="$missing $1"; }

check_build() {
	command -v ${CC:-cc} >/dev/null 2>&1 || need gcc
	command -v make >/dev/null 2>&1 || need make
	command -v pkg-config >/dev/null 2>&1 || need pkg-config
	have_header elfutils/libdwfl.h || need libdw-dev
	have_header gelf.h || need libelf-dev
	have_header zlib.h || need zlib1g-dev
	have_header curl/curl.h || need libcurl4-openssl-dev
	have_header histedit.h || need libedit-dev
	# The /debug/pprof endpoint: its header at build time; the runtime dlopens the library.
	have_header microhttpd.h || need libmicrohttpd-dev
}
check_test() {
	check_build
	# go tool pprof is the reference reader the tests compare against.
	command -v go >/dev/null 2>&1 || need golang-go
	command -v timeout >/dev/null 2>&1 || need coreutils
	# Graphviz renders -svg/-png/-pdf; valgrind's callgrind_annotate reads -callgrind,
	# and heap_memcheck runs a -lcprof program under valgrind's memcheck.
	command -v dot >/dev/null 2>&1 || need graphviz
	command -v callgrind_annotate >/dev/null 2>&1 || need valgrind
	# openssl makes certificates and serves HTTPS for the -tls_* tests.
	command -v openssl >/dev/null 2>&1 || need openssl
	command -v pkg-config >/dev/null 2>&1 || need pkg-config
	# Programs that bring their own allocator: tcmalloc (gperftools) and jemalloc.
	ls /usr/lib/*/libtcmalloc.so.4 >/dev/null 2>&1 || need libgoogle-perftools4
	ls /usr/lib/*/libjemalloc.so.2 >/dev/null 2>&1 || need libjemalloc2
	# The web UI's browser tests: headless Chromium driven by playwright-core (npm).
	command -v chromium >/dev/null 2>&1 || need chromium
	command -v npm >/dev/null 2>&1 || need npm
	# The heap profiler's tests also link programs against them, and against mimalloc.
	ls /usr/lib/*/libmimalloc.so.2 >/dev/null 2>&1 || need libmimalloc-dev
	command -v g++ >/dev/null 2>&1 || need g++
	# protoc decodes cprof trace -format=perfetto output against proto/perfetto_trace.proto.
	command -v protoc >/dev/null 2>&1 || need protobuf-compiler
}
check_bench() {
	check_test
	[ -e /usr/lib/x86_64-linux-gnu/libprofiler.so ] || ls /usr/lib/*/libprofiler.so >/dev/null 2>&1 ||
		need libgoogle-perftools-dev
	# The heap benchmark: heaptrack to compare with, xmllint (libxml2) as the real program.
	command -v heaptrack >/dev/null 2>&1 || need heaptrack
	command -v xmllint >/dev/null 2>&1 || need libxml2-utils
}

case "$group" in
build) check_build ;;
test) check_test ;;
bench) check_bench ;;
*) echo "usage: scripts/deps.sh build|test|bench" >&2; exit 2 ;;
esac

[ -z "$missing" ] && exit 0

echo "cprof: installing missing dependencies:$missing" >&2
if ! command -v apt-get >/dev/null 2>&1; then
	echo "cprof: no apt-get here; install the equivalents of these Debian packages:$missing" >&2
	exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
		echo "cprof: not root and no sudo; as root run: apt-get install$missing" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2 || true
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2 || {
	echo "cprof: apt-get install$missing failed" >&2
	exit 1
}
