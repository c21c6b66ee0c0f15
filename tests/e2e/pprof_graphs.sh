#!/usr/bin/env bash
# The graphical and export outputs of `cprof pprof`:
#  -dot and -callgrind compared byte for byte with `go tool pprof` (stdout) over
#  tests/data profiles (Go's and cprof's own) with several flag sets;
#  -svg valid XML with the pan/zoom script; -callgrind read by valgrind's
#  callgrind_annotate with the profile's total as self cost; -proto re-read
#  gives the same -top; -folded round trip (and folded input); -flamegraph a
#  valid SVG naming the top functions; -web headless prints the file name.
# Prints "PASS <name>" or "FAIL <name>: <why>" per check.
set -u
top=${CPROF_TOP:?} build=${CPROF_BUILD:?}
cprof=$build/bin/cprof
d=$top/tests/data c=$top/tests/data/conformance
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home PPROF_TMPDIR=$tmp/pprof GOCACHE=$tmp/gocache GOFLAGS="" TMPDIR=$tmp
mkdir -p "$HOME" "$PPROF_TMPDIR"

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }

# ---- byte-for-byte comparisons with go tool pprof ----
if command -v go >/dev/null 2>&1; then
	compare() { # name args...
		local name=$1; shift
		"$cprof" pprof "$@" >"$tmp/ours" 2>"$tmp/ours.err"
		local rc1=$?
		go tool pprof "$@" >"$tmp/theirs" 2>"$tmp/theirs.err"
		local rc2=$?
		if [ $rc1 -ne $rc2 ]; then
			fail "$name" "exit status $rc1, go tool pprof $rc2: $(head -c 300 "$tmp/ours.err")"
		elif cmp -s "$tmp/ours" "$tmp/theirs"; then
			pass "$name"
		else
			fail "$name" "$(diff "$tmp/ours" "$tmp/theirs" | head -4 | cut -c1-200 | tr '\n' '|')"
		fi
	}
	for f in "$d"/*.pb.gz "$c"/*.pb.gz; do
		[ -f "$f" ] || continue
		b=$(basename "$f" .pb.gz)
		case $f in "$c"/*) b=conformance/$b ;; esac
		compare "$b -dot" -dot "$f"
		compare "$b -callgrind" -callgrind "$f"
	done
	compare "go-heap -dot -mean (numeric tag groups)" -dot -mean "$d/go-heap.pb.gz"
	compare "go-heap -dot -nodecount=5 (tags count as nodes)" -dot -nodecount=5 "$d/go-heap.pb.gz"
	compare "go-heap -dot -alloc_objects -lines" -dot -alloc_objects -lines "$d/go-heap.pb.gz"
	compare "go-cpu-many -dot -cum -nodecount=6 (residual edges)" -dot -cum -nodecount=6 "$d/go-cpu-many.pb.gz"
	compare "go-cpu-many -dot -trim=false" -dot -trim=false "$d/go-cpu-many.pb.gz"
	compare "go-cpu-many -dot -addresses -nodecount=15" -dot -addresses -nodecount=15 "$d/go-cpu-many.pb.gz"
	compare "go-cpu-many -dot -focus=burn -divide_by=2" -dot -focus=burn -divide_by=2 "$d/go-cpu-many.pb.gz"
	compare "go-block -dot -mean_delay -unit=auto" -dot -mean_delay -unit=auto "$d/go-block.pb.gz"
	compare "conformance/go-cpu -dot (string label nodelets)" -dot "$c/go-cpu.pb.gz"
	compare "conformance/cprof-inline -dot -lines (inline edges)" -dot -lines "$c/cprof-inline.pb.gz"
	compare "merge cpu+cpu-many -dot" -dot "$d/go-cpu.pb.gz" "$d/go-cpu-many.pb.gz"
	compare "go-heap -callgrind -sample_index=alloc_space" -callgrind -sample_index=alloc_space "$d/go-heap.pb.gz"
	# several functions under one (empty) name: "[1/2]" names built on the fly
	compare "gperf-cpu-split -callgrind -symbolize=none" -callgrind -symbolize=none "$c/gperf-cpu-split.prof"
	# samples without frames are not written (threadcreate): the same -top as pprof's own -proto
	"$cprof" pprof -proto "$c/go-threadcreate.pb.gz" >"$tmp/tc.pb.gz" 2>/dev/null
	go tool pprof -proto "$c/go-threadcreate.pb.gz" >"$tmp/tc-go.pb.gz" 2>/dev/null
	if cmp -s <(go tool pprof -top "$tmp/tc.pb.gz" 2>/dev/null) <(go tool pprof -top "$tmp/tc-go.pb.gz" 2>/dev/null); then
		pass "go-threadcreate -proto reads back as pprof's -proto does"
	else
		fail "go-threadcreate -proto" "-top differs from that of go tool pprof's -proto"
	fi
else
	echo "INFO go is not installed: no byte-for-byte comparison"
fi

# ---- -svg (and the other Graphviz formats) ----
xml_check() { # file -> prints the root tag, or fails
	python3 - "$1" <<'EOF'
import sys, xml.etree.ElementTree as E
r = E.parse(sys.argv[1]).getroot()
print(r.tag)
EOF
}
if command -v dot >/dev/null 2>&1; then
	if "$cprof" pprof -svg "$d/go-cpu-many.pb.gz" >"$tmp/g.svg" 2>"$tmp/err" &&
		[ "$(xml_check "$tmp/g.svg" 2>&1)" = "{http://www.w3.org/2000/svg}svg" ] &&
		grep -q '<g id="viewport"' "$tmp/g.svg" && grep -q '<script' "$tmp/g.svg" &&
		grep -q 'sha256' "$tmp/g.svg"; then
		pass "-svg is valid SVG with the pan/zoom script"
	else
		fail "-svg" "$(head -c 300 "$tmp/err") $(xml_check "$tmp/g.svg" 2>&1 | tail -1)"
	fi
	"$cprof" pprof -png -output="$tmp/g.png" "$d/go-heap.pb.gz" 2>/dev/null
	if [ "$(head -c 4 "$tmp/g.png" | od -An -c | tr -d ' \n')" = "211PNG" ]; then
		pass "-png -output=FILE writes a PNG"
	else
		fail "-png -output=FILE" "not a PNG"
	fi
	"$cprof" pprof -pdf "$d/go-cpu.pb.gz" >"$tmp/g.pdf" 2>/dev/null
	if [ "$(head -c 5 "$tmp/g.pdf")" = "%PDF-" ]; then pass "-pdf to a pipe"; else fail "-pdf" "not a PDF"; fi
	# headless -web: no $BROWSER, no display: the SVG's path is printed
	out=$(env -u DISPLAY -u WAYLAND_DISPLAY -u BROWSER "$cprof" pprof -web "$d/go-cpu.pb.gz" 2>/dev/null)
	if [ -f "$out" ] && [ "$(xml_check "$out" 2>&1)" = "{http://www.w3.org/2000/svg}svg" ]; then
		pass "-web headless prints the SVG file's name"
	else
		fail "-web headless" "printed '$out'"
	fi
else
	echo "INFO Graphviz (dot) is not installed: -svg not checked"
fi

# ---- -callgrind read by callgrind_annotate ----
"$cprof" pprof -callgrind "$d/go-cpu.pb.gz" >"$tmp/cg.out"
# self cost: cost lines that do not follow a calls= line
self=$(awk '/^calls=/ {skip=1; next} /^(0x[0-9a-f]+|[-+][0-9]+|\*) [0-9]+ -?[0-9]+$/ {if (!skip) s+=$3} {skip=0} END {print s+0}' "$tmp/cg.out")
total=$("$cprof" pprof -top -unit=ms "$d/go-cpu.pb.gz" | sed -n 's/.* of \([0-9.]*\)ms total/\1/p')
if [ "$self" = "$total" ]; then pass "-callgrind self costs add up to the total ($self ms)"; else fail "-callgrind total" "self $self, total $total"; fi
if command -v callgrind_annotate >/dev/null 2>&1; then
	if callgrind_annotate "$tmp/cg.out" >"$tmp/cga" 2>&1 && grep -q 'Events recorded: *cpu(ms)' "$tmp/cga" &&
		grep -q '290 .*crypto/sha256.block' "$tmp/cga"; then
		pass "-callgrind read by callgrind_annotate (events cpu(ms), sha256.block 290)"
	else
		fail "-callgrind in callgrind_annotate" "$(head -5 "$tmp/cga" | tr '\n' '|')"
	fi
else
	echo "INFO callgrind_annotate is not installed"
fi

# ---- -proto: re-read, same -top ----
for f in "$d/go-cpu-many.pb.gz" "$d/go-heap.pb.gz" "$c/cprof-inline.pb.gz"; do
	b=$(basename "$f" .pb.gz)
	"$cprof" pprof -proto "$f" >"$tmp/p.pb.gz" 2>/dev/null
	"$cprof" pprof -top "$tmp/p.pb.gz" >"$tmp/t1" 2>&1
	"$cprof" pprof -top "$f" >"$tmp/t2" 2>&1
	if cmp -s "$tmp/t1" "$tmp/t2"; then pass "$b -proto re-read has the same -top"; else fail "$b -proto" "$(diff "$tmp/t1" "$tmp/t2" | head -4 | tr '\n' '|')"; fi
done
"$cprof" pprof -proto -divide_by=10 "$d/go-cpu.pb.gz" >"$tmp/p10.pb.gz" 2>/dev/null
if "$cprof" pprof -top "$tmp/p10.pb.gz" | grep -q 'of 30ms total'; then pass "-proto -divide_by=10 scales the values"; else fail "-proto -divide_by" "$("$cprof" pprof -top "$tmp/p10.pb.gz" 2>&1 | head -5 | tr '\n' '|')"; fi

# ---- -folded and folded input ----
"$cprof" pprof -folded "$d/go-cpu-many.pb.gz" >"$tmp/a.folded"
cp "$tmp/a.folded" "$tmp/a.txt"
"$cprof" pprof -folded "$tmp/a.txt" >"$tmp/b.folded" 2>"$tmp/err"
if [ -s "$tmp/a.folded" ] && cmp -s "$tmp/a.folded" "$tmp/b.folded"; then
	pass "-folded round trip ($(wc -l <"$tmp/a.folded") stacks)"
else
	fail "-folded round trip" "$(diff "$tmp/a.folded" "$tmp/b.folded" | head -3 | tr '\n' '|') $(head -c 200 "$tmp/err")"
fi
want=$("$cprof" pprof -top -unit=ns "$d/go-cpu-many.pb.gz" | sed -n 's/.* of \([0-9]*\)ns total/\1/p')
sum=$(awk '{s += $NF} END {printf "%.0f", s}' "$tmp/a.folded")
if [ "$sum" = "$want" ]; then pass "-folded values add up to the total"; else fail "-folded total" "$sum, want $want"; fi
printf 'main;b;c 5\nmain;a 3\n# comment\n\nmain;b;c 2\nmain;b 1\n' >"$tmp/hand.folded"
printf 'main;a 3\nmain;b 1\nmain;b;c 7\n' >"$tmp/hand.want"
"$cprof" pprof -folded "$tmp/hand.folded" >"$tmp/hand.out" 2>"$tmp/err"
if cmp -s "$tmp/hand.out" "$tmp/hand.want"; then pass "folded input: equal stacks summed, sorted"; else fail "folded input" "$(tr '\n' '|' <"$tmp/hand.out") $(head -c 200 "$tmp/err")"; fi
if "$cprof" pprof -top "$tmp/hand.folded" 2>/dev/null | grep -q '^ *7 *63.64% .* c$'; then
	pass "folded input: -top (samples, one node per frame)"
else
	fail "folded input -top" "$("$cprof" pprof -top "$tmp/hand.folded" 2>&1 | tr '\n' '|')"
fi
printf 'main;a 3\nthis is not a stack\n' >"$tmp/bad.txt"
if ! "$cprof" pprof -top "$tmp/bad.txt" >/dev/null 2>&1; then pass "not collapsed stacks: refused"; else fail "bad folded input" "accepted"; fi

# ---- -flamegraph ----
for f in "$d/go-cpu-many.pb.gz" "$d/go-heap.pb.gz" "$c/cprof-hotspots.pb.gz"; do
	b=$(basename "$f" .pb.gz)
	"$cprof" pprof -flamegraph="$tmp/fg.svg" "$f" 2>/dev/null
	root=$(xml_check "$tmp/fg.svg" 2>&1 | tail -1)
	missing=
	# the three functions with the largest flat values must be frames
	while read -r name; do
		grep -qF "data-n=\"$name\"" "$tmp/fg.svg" || missing="$missing $name"
	done < <("$cprof" pprof -top -nodecount=3 "$f" 2>/dev/null | awk 'f {print $6} /flat%/ {f=1}')
	if [ "$root" = "{http://www.w3.org/2000/svg}svg" ] && [ -z "$missing" ] &&
		grep -q '<script' "$tmp/fg.svg" && ! grep -qE '(href|src)="http' "$tmp/fg.svg"; then
		pass "$b -flamegraph=FILE is a self-contained SVG with the top functions"
	else
		fail "$b -flamegraph" "root $root, missing:$missing"
	fi
done
"$cprof" pprof -flamegraph "$d/go-cpu.pb.gz" >"$tmp/fg2.svg" 2>/dev/null
if [ "$(xml_check "$tmp/fg2.svg" 2>&1 | tail -1)" = "{http://www.w3.org/2000/svg}svg" ]; then
	pass "-flamegraph to stdout"
else
	fail "-flamegraph to stdout" "not SVG"
fi
exit 0
