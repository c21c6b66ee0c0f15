#!/usr/bin/env bash
# `cprof pprof -call_tree` (a node per calling context) against
# `go tool pprof -call_tree` for -dot and -callgrind, on tests/data profiles
# (Go's and cprof's own), with the trimming paths (nodefraction, nodecount,
# edgefraction: pprof's TrimTree), granularities and a cprof-written profile.
#
# pprof's call tree is not always deterministic: graph.newTree lists its nodes
# by ranging over Go maps, and nodes of the same function in different
# contexts can tie in every sort key (value, name, NodeInfo), so which one
# gets N5 and which N6 (and which "[i/n]" in callgrind) changes from run to
# run. Cases marked "exact" are profiles where pprof's output is the same on
# every run (checked: repeated runs agree), compared byte for byte. Cases
# marked "canon" have such ties: the outputs are compared with node ids
# replaced by the node's text and lines sorted (DOT), or as sorted records
# with absolute addresses and names without "[i/n]" (callgrind). Ties at the
# nodecount boundary change which nodes are shown, so canon cases keep every
# node (no nodecount cut among ties).
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

cat >"$tmp/canon.py" <<'EOF'
import difflib, re, sys

def canon_dot(text):
    lines = [re.sub(r' id="node\d+"', '', l) for l in text.split('\n')]
    defs = {}
    for l in lines:
        m = re.match(r'^(N\d+) (\[.*)$', l)
        if m:
            defs[m.group(1)] = m.group(2)
    tok = re.compile(r'\bN(\d+)(?!\d)')
    return sorted(tok.sub(lambda m: '{' + defs.get('N' + m.group(1), '?') + '}', l)
                  for l in lines)

def canon_callgrind(text):
    names, out = {}, []
    def name(kind, s):
        m = re.match(r'^\((\d+)\)(?: (.*))?$', s)
        if not m:
            return s
        if m.group(2) is not None:
            names[(kind, m.group(1))] = m.group(2)
        return re.sub(r' \[\d+/\d+\]$', '', names.get((kind, m.group(1)), '?'))
    def addr(s, prev):
        if s == '*':
            return prev
        if s[0] in '+-':
            return prev + int(s)
        return int(s, 16)
    prev = last = None
    ob = fl = fn = cfl = cfn = node = None
    lines = text.split('\n')
    i = 0
    while i < len(lines):
        l = lines[i]
        if l.startswith('ob='): ob = name('ob', l[3:])
        elif l.startswith('fl='): fl = name('fl', l[3:])
        elif l.startswith('fn='): fn = name('fn', l[3:])
        elif l.startswith('cfl='): cfl = name('fl', l[4:])
        elif l.startswith('cfn='): cfn = name('fn', l[4:])
        elif l.startswith('calls='):
            # callgrindAddress: relative to the previous node, as node lines
            f = l.split()
            a = addr(f[1], prev or 0)
            cost = lines[i + 1].split()[2]
            i += 1
            out.append('call %s -> %s %s %x %s %s' % (node, cfl, cfn, a, f[2], cost))
        elif re.match(r'^(\*|[+-]\d+|0x[0-9a-f]+) ', l):
            f = l.split()
            prev = last
            a = addr(f[0], prev or 0)
            last = a
            node = '%s|%s|%s|%x|%s' % (ob, fl, fn, a, f[1])
            out.append('node %s %s' % (node, f[2]))
        elif l:
            out.append(l)
        i += 1
    return sorted(out)

a, b = open(sys.argv[2]).read(), open(sys.argv[3]).read()
f = canon_dot if sys.argv[1] == 'dot' else canon_callgrind
ca, cb = f(a), f(b)
if ca != cb:
    d = difflib.unified_diff(ca, cb, lineterm='', n=0)
    print(' | '.join(list(d)[2:5])[:300])
    sys.exit(1)
EOF

if ! command -v go >/dev/null 2>&1; then
	echo "PASS call_tree comparisons skipped: no go toolchain"
	exit 0
fi

compare() { # mode name args...
	local mode=$1 name=$2; shift 2
	"$cprof" pprof -call_tree "$@" >"$tmp/ours" 2>"$tmp/ours.err"
	local rc1=$?
	go tool pprof -call_tree "$@" >"$tmp/theirs" 2>"$tmp/theirs.err"
	local rc2=$?
	local kind=dot why
	case " $* " in *" -callgrind "*) kind=callgrind ;; esac
	if [ $rc1 -ne $rc2 ]; then
		fail "$name" "exit status $rc1, go tool pprof $rc2: $(head -c 300 "$tmp/ours.err")"
	elif cmp -s "$tmp/ours" "$tmp/theirs"; then
		pass "$name"
	elif [ "$mode" = exact ]; then
		fail "$name" "$(diff "$tmp/ours" "$tmp/theirs" | head -4 | cut -c1-200 | tr '\n' '|')"
	elif why=$(python3 "$tmp/canon.py" $kind "$tmp/theirs" "$tmp/ours"); then
		pass "$name (up to ties)"
	else
		fail "$name" "not even up to ties: $why"
	fi
}

# Deterministic in pprof: byte for byte.
for f in go-cpu go-heap go-heap-big go-block go-mutex; do
	compare exact "$f -dot -call_tree" -dot "$d/$f.pb.gz"
	compare exact "$f -callgrind -call_tree" -callgrind "$d/$f.pb.gz"
done
for f in cprof-cpu-split cprof-inline go-block go-goroutine go-heap go-mutex go-threadcreate; do
	compare exact "conformance/$f -dot -call_tree" -dot "$c/$f.pb.gz"
	compare exact "conformance/$f -callgrind -call_tree" -callgrind "$c/$f.pb.gz"
done
compare exact "conformance/go-allocs -dot -call_tree" -dot "$c/go-allocs.pb.gz"
compare exact "go-heap -dot -call_tree -nodecount=5 (TrimTree, tags count as nodes)" -dot -nodecount=5 "$d/go-heap.pb.gz"
compare exact "go-heap -dot -call_tree -mean -lines" -dot -mean -lines "$d/go-heap.pb.gz"
compare exact "go-heap-big -dot -call_tree -nodefraction=0.05 (TrimTree)" -dot -nodefraction=0.05 "$d/go-heap-big.pb.gz"
compare exact "go-cpu-many -dot -call_tree -nodecount=12 (residual edges)" -dot -nodecount=12 "$d/go-cpu-many.pb.gz"
compare exact "go-cpu-many -dot -call_tree -edgefraction=0.05 -nodecount=8" -dot -edgefraction=0.05 -nodecount=8 "$d/go-cpu-many.pb.gz"
compare exact "go-cpu-many -dot -call_tree -addresses -nodecount=15" -dot -addresses -nodecount=15 "$d/go-cpu-many.pb.gz"
compare exact "conformance/cprof-inline -dot -call_tree -lines (inline edges)" -dot -lines "$c/cprof-inline.pb.gz"
compare exact "conformance/cprof-inline -dot -call_tree -noinlines" -dot -noinlines "$c/cprof-inline.pb.gz"
compare exact "conformance/go-cpu -dot -call_tree -nodefraction=0.05 -nodecount=10" -dot -nodefraction=0.05 -nodecount=10 "$c/go-cpu.pb.gz"
compare exact "conformance/cprof-hotspots -dot -call_tree -nodecount=10" -dot -nodecount=10 "$c/cprof-hotspots.pb.gz"
compare exact "go-block -callgrind -call_tree -cum" -callgrind -cum "$d/go-block.pb.gz"

# Ties in pprof's order: compared up to them.
compare canon "go-cpu-many -dot -call_tree" -dot "$d/go-cpu-many.pb.gz"
compare canon "go-cpu-many -dot -call_tree -trim=false" -dot -trim=false "$d/go-cpu-many.pb.gz"
compare canon "go-cpu-many -dot -call_tree -focus=main -mean" -dot -focus=main -mean "$d/go-cpu-many.pb.gz"
compare canon "go-cpu-many -callgrind -call_tree" -callgrind "$d/go-cpu-many.pb.gz"
compare canon "conformance/go-cpu -dot -call_tree (label nodelets)" -dot "$c/go-cpu.pb.gz"
compare canon "conformance/go-cpu -callgrind -call_tree -lines" -callgrind -lines "$c/go-cpu.pb.gz"
compare canon "conformance/go-allocs -callgrind -call_tree ([i/n] per context)" -callgrind "$c/go-allocs.pb.gz"
compare canon "conformance/cprof-hotspots -dot -call_tree -cum" -dot -cum "$c/cprof-hotspots.pb.gz"
compare canon "conformance/cprof-hotspots -callgrind -call_tree" -callgrind "$c/cprof-hotspots.pb.gz"
compare canon "conformance/go-cpu -dot -call_tree -diff_base (negative nodes)" -dot -nodecount=200 -diff_base="$d/go-cpu.pb.gz" "$c/go-cpu.pb.gz"
compare canon "go-cpu-many -dot -call_tree -base -drop_negative" -dot -base="$c/go-cpu.pb.gz" -drop_negative "$d/go-cpu-many.pb.gz"
compare canon "conformance/go-cpu -dot -call_tree -tagroot=worker" -dot -tagroot=worker "$c/go-cpu.pb.gz"
compare exact "go-cpu-many -dot -call_tree -hide=runtime -nodecount=6" -dot -hide=runtime -nodecount=6 "$d/go-cpu-many.pb.gz"

# A profile cprof writes now.
if [ -x "$build/examples/hotspots" ] &&
	"$cprof" run -cpuprofile="$tmp/hot.pb.gz" -- "$build/examples/hotspots" >/dev/null 2>&1; then
	compare canon "cprof run hotspots -dot -call_tree" -dot "$tmp/hot.pb.gz"
	compare canon "cprof run hotspots -callgrind -call_tree" -callgrind "$tmp/hot.pb.gz"
	compare canon "cprof run hotspots -dot -call_tree -lines" -dot -lines -nodecount=1000 "$tmp/hot.pb.gz"
else
	fail "cprof run hotspots" "could not record a profile"
fi

# Only graph reports honor it: -top and -tree are unchanged.
compare exact "go-cpu-many -top -call_tree (ignored)" -top "$d/go-cpu-many.pb.gz"
compare exact "go-cpu-many -tree -call_tree (ignored)" -tree "$d/go-cpu-many.pb.gz"

# -svg renders the tree; interactive call_tree=true gives the same DOT.
if command -v dot >/dev/null 2>&1; then
	if "$cprof" pprof -svg -call_tree "$d/go-cpu-many.pb.gz" >"$tmp/t.svg" 2>/dev/null &&
		grep -q '</svg>' "$tmp/t.svg" && [ "$(grep -c 'class="node"' "$tmp/t.svg")" -gt \
		"$("$cprof" pprof -svg "$d/go-cpu-many.pb.gz" 2>/dev/null | grep -c 'class="node"')" ]; then
		pass "go-cpu-many -svg -call_tree (more nodes than the graph)"
	else
		fail "go-cpu-many -svg -call_tree" "no SVG, or not more nodes than without -call_tree"
	fi
fi
printf 'call_tree=true\ndot\n' | "$cprof" pprof "$d/go-cpu.pb.gz" >"$tmp/ours" 2>/dev/null
printf 'call_tree=true\ndot\n' | go tool pprof "$d/go-cpu.pb.gz" >"$tmp/theirs" 2>/dev/null
if cmp -s "$tmp/ours" "$tmp/theirs" && grep -q digraph "$tmp/ours"; then
	pass "interactive call_tree=true, dot"
else
	fail "interactive call_tree=true, dot" "$(diff "$tmp/ours" "$tmp/theirs" | head -3 | cut -c1-150 | tr '\n' '|')"
fi
