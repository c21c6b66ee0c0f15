#!/usr/bin/env bash
# cpu_contents.sh - what a CPU profile carries, read by go tool pprof.
#
# tests/progs/inline_work (-O2, no frame pointers) spends its time in
# mix_inline, a static inline function inlined into outer_work. Its profile
# (of a copy of the binary, deleted afterwards) must have:
#   - mapping[0] = the main binary, with the build id readelf reports;
#   - function names with this file's name and line numbers;
#   - the inlined frame: -raw shows mix_inline and outer_work at one
#     location, and -top names "mix_inline (inline)";
#   - everything still named with the binary gone and the profile moved:
#     the profile is self-contained.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/bin" "$T/elsewhere"
cp "$PROGS/inline_work" "$T/bin/inline_work"
want_id=$(readelf -n "$T/bin/inline_work" | awk '/Build ID:/ { print $3 }')
"$CPROF" run -cpuprofile="$T/inline.prof" -- "$T/bin/inline_work" 1000 >/dev/null 2>"$T/err"
st=$?
if [ "$st" -ne 0 ]; then
	fail contents_run "cprof run exited $st: $(tail -n 3 "$T/err" | tr '\n' ' ')"
	exit 0
fi
check_valid contents "$T/inline.prof" || exit 0
go tool pprof -raw "$T/inline.prof" >"$T/raw" 2>/dev/null

# mapping[0]: "1: 0xSTART/0xLIMIT/0xOFFSET FILE BUILDID [flags]"
m0=$(sed -n '/^Mappings/{n;p;q}' "$T/raw")
read -r _ _ m0file m0id _ <<<"$m0"
if [ "$m0file" = "$T/bin/inline_work" ] && [ -n "$want_id" ] && [ "$m0id" = "$want_id" ]; then
	pass contents_mapping0 "$m0file build id $m0id"
else
	fail contents_mapping0 "'$m0' (want $T/bin/inline_work with build id $want_id)"
fi

# Locations: "N: 0xADDR M=1 FUNC FILE:LINE s=START", inlined callers on the next lines.
loc=$(awk '$4 == "outer_work" || $4 == "mix_inline" { print $4, $5; exit }' "$T/raw")
case "$loc" in
*" tests/progs/inline_work.c:"[1-9]*) pass contents_file_line "$loc" ;;
*) fail contents_file_line "'$loc' (want outer_work or mix_inline at tests/progs/inline_work.c:<line>)" ;;
esac
pair=$(awk '/^ *[0-9]+: 0x/ { f = $4; next } f == "mix_inline" && $1 == "outer_work" { print "mix_inline <- " $1 " " $2; exit } { f = "" }' "$T/raw")
if [ -n "$pair" ]; then
	pass contents_inline_raw "one location, two lines: $pair"
else
	fail contents_inline_raw "no location with mix_inline inlined into outer_work in -raw"
fi
top=$(go tool pprof -top "$T/inline.prof" 2>/dev/null | grep 'mix_inline (inline)' | head -1)
if [ -n "$top" ]; then
	pass contents_inline_top "-top:$(echo "$top" | tr -s ' ')"
else
	fail contents_inline_top "no 'mix_inline (inline)' in go tool pprof -top"
fi
in_range contents_main "$(cum_pct main "$T/inline.prof")" 99.5 100 "main at 100% cum"
in_range contents_outer "$(cum_pct outer_work "$T/inline.prof")" 95 100 "outer_work at about 100% cum"

# Self-contained: binary gone, profile moved.
rm -f "$T/bin/inline_work"
mv "$T/inline.prof" "$T/elsewhere/moved.prof"
check_valid contents_no_binary "$T/elsewhere/moved.prof"
names=$(cd "$T/elsewhere" && go tool pprof -top moved.prof 2>/dev/null | awk '$NF == "main" || $NF == "outer_work" || $(NF-1) == "mix_inline" { print $(NF-1) == "mix_inline" ? "mix_inline" : $NF }' | sort | tr '\n' ' ')
in_range contents_no_binary_names "$(echo "$names" | wc -w)" 3 3 "main, outer_work, mix_inline named without the binary: $names"
