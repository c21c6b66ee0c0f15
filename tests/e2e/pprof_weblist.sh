#!/usr/bin/env bash
# cprof pprof -weblist=RE against go tool pprof -weblist=RE on a profile cprof
# writes of tests/progs/cpu_split built without PIE (go tool pprof takes
# profile addresses as file addresses). Both pages are parsed with python3's
# html.parser: ours must be well formed (every element closed in order).
# From each page the numbers are taken - the legend's total, per function
# block its name, file and Total line, per source line its number and
# flat/cum, per instruction its address and flat/cum - and compared; the
# instruction text differs by design (objdump against Go's disassembler).
# Then: instruction rows add up to their line, every line -list annotates
# shows the same values, no match is an error, and without -output the
# page goes to a temp file whose name is printed when no browser opens.
set -u
# shellcheck source=tests/e2e/lib.sh
. "$CPROF_TOP/tests/e2e/lib.sh"
top=$CPROF_TOP
if ! command -v go >/dev/null 2>&1 || ! command -v objdump >/dev/null 2>&1 ||
	! command -v python3 >/dev/null 2>&1; then
	echo "PASS pprof_weblist_skipped_no_go_objdump_python3"
	exit 0
fi
export HOME=$T PPROF_TMPDIR=$T GOCACHE=$T/gocache GOFLAGS= BROWSER=true
mkdir -p "$T/bin"

cat >"$T/extract.py" <<'EOF'
# usage: extract.py page.html [list.txt]: prints the numbers of a weblist page
# ("E <why>" lines for malformed HTML or rows that do not add up).
import re, sys
from html.parser import HTMLParser

VOID = {"br", "meta", "link", "img", "hr", "input"}
UNITS = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9, "": 1, "B": 1, "kB": 1024, "MB": 1024**2,
         "GB": 1024**3, "mins": 60e9, "hrs": 3600e9}

def num(v):
    if v == ".":
        return 0.0
    m = re.fullmatch(r"(-?[0-9.]+(?:e[+-]?\d+)?)([a-zA-Z]*)", v)
    return float(m.group(1)) * UNITS.get(m.group(2), 1) if m else float("nan")

class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.out = [], [], []
        self.cls, self.buf, self.legend = None, "", ""
        self.fn = None
    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        self.flush()
        c = dict(attrs).get("class", "")
        self.stack.append((tag, c))
    def handle_endtag(self, tag):
        if tag in VOID:
            return
        self.flush()
        if not self.stack or self.stack[-1][0] != tag:
            self.errors.append("unexpected </%s> (open: %s)" % (tag, self.stack[-1:] ))
            return
        self.stack.pop()
    def handle_data(self, d):
        self.buf += d
    def flush(self):
        d, self.buf = self.buf, ""
        if not d:
            return
        tags = [t for t, _ in self.stack]
        cls = self.stack[-1][1] if self.stack else ""
        if "div" in tags:
            self.legend += d
        elif tags and tags[-1] == "h2":
            self.fn = {"name": d, "file": "", "total": "", "rows": []}
            self.out.append(self.fn)
        elif tags and tags[-1] == "p" and self.fn:
            self.fn["file"] += d
        elif cls == "line" and self.fn:
            self.fn["rows"].append([int(d), None, None, []])
        elif cls in ("livesrc", "deadsrc", "nop") and self.fn:
            f = d.split()
            self.fn["rows"][-1][1:3] = f[0], f[1]
        elif "pre" in tags and self.fn:
            for l in d.split("\n"):
                m = re.match(r"^  Total:\s+(\S+)\s+(\S+) \(flat, cum\)\s+(\S+)", l)
                if m:
                    self.fn["total"] = " ".join(m.groups())
                m = re.match(r"^ {9}\s*(\S+)\s+(\S+)\s+([0-9a-f]+): ", l)
                if m and cls == "asm" or (m and "asm" in [c for _, c in self.stack]):
                    self.fn["rows"][-1][3].append((m.group(3), m.group(1), m.group(2)))

p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
p.close()
p.flush()
for e in p.errors:
    print("E", e)
if p.stack:
    print("E unclosed", p.stack)
print("T", re.findall(r"Total: (\S+)", p.legend)[-1:])
for f in p.out:
    print("F", f["name"], f["file"], f["total"])
    for ln, fl, cu, ins in f["rows"]:
        print("L", ln, fl, cu)
        for a in ins:
            print("I", *a)
        if ins:
            sf, sc = sum(num(i[1]) for i in ins), sum(num(i[2]) for i in ins)
            if abs(sf - num(fl)) > 1e-6 * max(1, abs(sf)) or abs(sc - num(cu)) > 1e-6 * max(1, abs(sc)):
                print("E line %d: instructions sum to %g/%g, the line says %s/%s" % (ln, sf, sc, fl, cu))
if len(sys.argv) > 2:
    # every line -list annotates appears with the same values
    shown = {}
    for f in p.out:
        base = f["file"].rsplit("/", 1)[-1]
        for ln, fl, cu, _ in f["rows"]:
            shown[(base, ln)] = (fl, cu)
    base = None
    for l in open(sys.argv[2]):
        m = re.match(r"ROUTINE =+ .* in (.*)$", l)
        if m:
            base = m.group(1).rsplit("/", 1)[-1]
        m = re.match(r"^\s*(\S+)\s+(\S+)\s+(\d+):", l)
        if m and base and (m.group(1) != "." or m.group(2) != "."):
            k = (base, int(m.group(3)))
            if shown.get(k) != (m.group(1), m.group(2)):
                print("E -list %s:%d %s %s, -weblist %s" % (k[0], k[1], m.group(1), m.group(2), shown.get(k)))
EOF

if ! cc -O2 -g -fomit-frame-pointer -no-pie -std=gnu11 -D_GNU_SOURCE -I"$top/include" \
	-o "$T/bin/cpu_split" "$top/tests/progs/cpu_split.c" -lpthread -ldl -lm 2>"$T/cc.err"; then
	echo "FAIL pprof_weblist: cc -no-pie failed: $(head -c 300 "$T/cc.err")"
	exit 0
fi
p=$T/cpu_split.prof
if ! "$CPROF" run -cpuprofile="$p" -- "$T/bin/cpu_split" 300 >/dev/null 2>"$T/run.err"; then
	echo "FAIL pprof_weblist: cprof run failed: $(head -c 300 "$T/run.err")"
	exit 0
fi

compare() { # name args...
	local name=$1; shift
	rm -f "$T/ours.html" "$T/theirs.html"
	"$CPROF" pprof "$@" -output="$T/ours.html" "$p" >/dev/null 2>"$T/ours.err"
	local rc1=$?
	go tool pprof "$@" -output="$T/theirs.html" "$p" >/dev/null 2>"$T/theirs.err"
	local rc2=$?
	if [ $rc1 -ne 0 ] || [ $rc2 -ne 0 ]; then
		echo "FAIL $name: exit status $rc1, go tool pprof $rc2: $(head -c 300 "$T/ours.err")"
		return
	fi
	local list=
	if [ "${LISTCHECK:-1}" = 1 ]; then
		"$CPROF" pprof -list="${1#-weblist=}" "${@:2}" "$p" >"$T/list.txt" 2>/dev/null
		list=$T/list.txt
	fi
	python3 "$T/extract.py" "$T/ours.html" $list >"$T/ours.n" 2>&1
	python3 "$T/extract.py" "$T/theirs.html" >"$T/theirs.n" 2>&1
	if grep -q '^E' "$T/ours.n"; then
		echo "FAIL $name: $(grep '^E' "$T/ours.n" | head -3 | tr '\n' '|')"
	elif ! grep -q '^I' "$T/ours.n"; then
		echo "FAIL $name: no instruction rows: $(head -c 300 "$T/ours.n")"
	elif cmp -s "$T/ours.n" "$T/theirs.n"; then
		pass "$name" "$(grep -c '^F' "$T/ours.n") functions, $(grep -c '^L' "$T/ours.n") lines, $(grep -c '^I' "$T/ours.n") instructions as go tool pprof"
	else
		echo "FAIL $name: $(diff "$T/ours.n" "$T/theirs.n" | head -6 | tr '\n' '|')"
	fi
}

# Regexps that do not match main: its code is in .text.startup, whose line
# table sequence go tool pprof's DWARF reader cannot find (docs/pprof-differences.md).
compare "-weblist=work_unit" -weblist=work_unit
compare "-weblist=work_unit.h (file name)" -weblist='work_unit\.h'
compare "-weblist=work_unit -focus=sixty" -weblist=work_unit -focus=sixty
# -mean divides each sample (pprof's weblist), -list each line's sums: not compared with -list.
LISTCHECK=0 compare "-weblist=work_unit -mean -unit=s" -weblist=work_unit -mean -unit=s

# No match: pprof's error, nothing written.
if "$CPROF" pprof -weblist=nosuch -output="$T/none.html" "$p" >/dev/null 2>"$T/err"; then
	echo "FAIL -weblist no match: exit status 0"
elif ! grep -q "no matches found for regexp: nosuch" "$T/err"; then
	echo "FAIL -weblist no match: $(head -c 300 "$T/err")"
else
	pass "-weblist no match" "$(head -c 100 "$T/err")"
fi

# Without -output: a temp HTML file handed to $BROWSER (here a command that
# does nothing), or its name printed when there is no browser.
out=$(BROWSER= DISPLAY= WAYLAND_DISPLAY= TMPDIR=$T "$CPROF" pprof -weblist=work "$p" 2>"$T/err")
f=$(printf '%s\n' "$out" | grep -o '/[^ ]*\.html' | head -1)
if [ -n "$f" ] && [ -s "$f" ] && python3 "$T/extract.py" "$f" >"$T/tmp.n" && grep -q '^I' "$T/tmp.n"; then
	pass "-weblist without a browser" "printed $f"
else
	echo "FAIL -weblist without a browser: stdout '$out', $(head -c 300 "$T/err")"
fi
