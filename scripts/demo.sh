#!/bin/sh
# make demo: profile the bundled example, unmodified, and show where it
# spends its CPU. Usage: scripts/demo.sh BUILD_DIR
set -eu
b=$1
out=$b/demo
mkdir -p "$out"
echo "==> cprof run -cpuprofile=$out/cpu.prof -- $b/examples/hotspots"
"$b/bin/cprof" run -cpuprofile="$out/cpu.prof" -- "$b/examples/hotspots"
echo
echo "==> cprof pprof -top $out/cpu.prof"
"$b/bin/cprof" pprof -top "$out/cpu.prof"
echo
echo "The profile is a standard pprof file: go tool pprof -top $out/cpu.prof reads it too."
echo "Profile your own program:  $b/bin/cprof run -cpuprofile=cpu.prof -- ./prog args"
