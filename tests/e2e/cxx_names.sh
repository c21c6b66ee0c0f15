#!/usr/bin/env bash
# C++ programs: functions appear under their qualified, demangled names
# (ns::Class::method(args)), with the mangled linkage name kept as the
# function's system_name, even when the program does not load libstdc++.
set -u
b=$CPROF_BUILD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp PPROF_TMPDIR=$tmp

if ! command -v g++ >/dev/null 2>&1; then
	echo "INFO cxx_names: no g++ here; nothing to check"
	echo "PASS cxx_names_skipped"
	exit 0
fi
cat >"$tmp/hash.cc" <<'CC'
#include <cstdint>
#include <cstdio>
namespace ns {
struct Hasher {
	__attribute__((noinline)) uint64_t run(uint64_t x, int n)
	{
		for (int i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		return x;
	}
};
}
template <typename T> __attribute__((noinline)) T twice(T x)
{
	ns::Hasher h;
	return h.run(x, 150000000) + 1;
}
int main() { std::printf("%llu\n", (unsigned long long)(twice<uint64_t>(3) & 1)); }
CC
g++ -O2 -g -o "$tmp/hash" "$tmp/hash.cc"
"$b/bin/cprof" run -q -cpuprofile="$tmp/cxx.prof" -- "$tmp/hash" >/dev/null
"$b/bin/cprof" pprof -top "$tmp/cxx.prof" >"$tmp/top" 2>&1
if grep -q 'ns::Hasher::run(unsigned long, int)$' "$tmp/top" && grep -q 'twice<unsigned long>' "$tmp/top"; then
	echo "PASS cxx_demangled: qualified names shown"
else
	echo "FAIL cxx_demangled: $(sed -n '8,14p' "$tmp/top" | tr '\n' '|')"
fi
go tool pprof -raw "$tmp/cxx.prof" >"$tmp/raw" 2>&1
if grep -q '_ZN2ns6Hasher3runEmi' "$tmp/raw"; then
	echo "PASS cxx_system_name: mangled name kept as system_name"
else
	echo "FAIL cxx_system_name: no mangled name in the profile"
fi
