#!/usr/bin/env bash
# trace_viewer.sh - `cprof trace -http`, the trace viewer, on a trace of
# tests/progs/trace_known_linked (a producer/consumer pair over a condition
# variable, a task across two threads, nested regions, a 100 ms sleep) and
# one of tests/progs/trace_blocking_linked (waits that always block, CPU
# samples):
# the command line's rules (`cprof trace FILE` alone serves the viewer;
# -http does not go with -format; a bad address), the server's JSON
# endpoints and its answers to bad requests (a malformed time range is a
# 400, an unknown path a 404), then tests/web/trace.mjs in headless
# Chromium (timeline, zoom, details, search, derived views; screenshots
# under build/test-artifacts/trace-viewer, checked non-blank).
set -u
# shellcheck source=tests/e2e/lib.sh
. "$CPROF_TOP/tests/e2e/lib.sh"
top=$CPROF_TOP
art=$CPROF_BUILD/test-artifacts/trace-viewer
web=$top/tests/web

if ! "$CPROF" run -trace="$T/k.trace" -- "$PROGS/trace_known_linked" >/dev/null 2>"$T/run.err" ||
	! "$CPROF" run -trace="$T/w.trace" -blocksyscalls -cpuprofile="$T/w.prof" -- "$PROGS/trace_blocking_linked" \
		>/dev/null 2>"$T/run.err"; then
	fail trace_viewer_trace "cprof run -trace failed: $(tail -3 "$T/run.err")"
	exit 1
fi

pids=""
stop_servers() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
}
trap 'stop_servers; rm -rf "$T"' EXIT
# serve NAME ARGS...: cprof trace ARGS in the background; URL_NAME from its first line.
serve() {
	local name=$1 i
	shift
	"$CPROF" trace "$@" >"$T/$name.out" 2>"$T/$name.err" &
	pids="$pids $!"
	for i in $(seq 1 200); do
		grep -q '^Serving trace viewer on ' "$T/$name.out" 2>/dev/null && break
		sleep 0.05
	done
	eval "URL_$name=\$(sed -n 's/^Serving trace viewer on //p' \"\$T/\$name.out\")"
}

# ---- command line ----
"$CPROF" trace -http=:0 -format=json "$T/k.trace" >/dev/null 2>"$T/e1"
rc1=$?
"$CPROF" trace -no_browser -format=text "$T/k.trace" >/dev/null 2>"$T/e2"
rc2=$?
"$CPROF" trace -http=nocolon "$T/k.trace" >/dev/null 2>"$T/e3"
rc3=$?
"$CPROF" trace -no_browser "$T/nonexistent.trace" >/dev/null 2>"$T/e4"
rc4=$?
if [ $rc1 -eq 2 ] && grep -q 'does not go with -format' "$T/e1" && [ $rc2 -eq 2 ] &&
	[ $rc3 -eq 2 ] && grep -q 'want \[host\]:\[port\]' "$T/e3" &&
	[ $rc4 -eq 1 ] && grep -q 'nonexistent.trace: No such file' "$T/e4"; then
	pass trace_viewer_flags "-http or -no_browser with -format, a bad address and a missing file are refused with a reason"
else
	fail trace_viewer_flags "exits $rc1 $rc2 $rc3 $rc4: $(cat "$T/e1" "$T/e2" "$T/e3" "$T/e4" | tr '\n' ' ')"
fi

# `cprof trace FILE` alone serves the viewer on localhost, and with no display says where.
(unset DISPLAY WAYLAND_DISPLAY BROWSER; exec "$CPROF" trace "$T/k.trace" >"$T/plain.out" 2>"$T/plain.err") &
pids="$pids $!"
serve k -http=127.0.0.1:0 -no_browser "$T/k.trace"
for _ in $(seq 1 100); do grep -q 'in a browser' "$T/plain.err" 2>/dev/null && break; sleep 0.05; done
plain=$(sed -n 's/^Serving trace viewer on //p' "$T/plain.out")
# shellcheck disable=SC2154
case "$plain $URL_k" in
http://localhost:[0-9]*" "http://127.0.0.1:[0-9]*)
	if grep -q "open $plain/trace/ in a browser" "$T/plain.err"; then
		pass trace_viewer_serve "cprof trace FILE serves on $plain (and says to open it: no display), -http on $URL_k"
	else
		fail trace_viewer_serve "no display: stderr says $(tr '\n' ' ' <"$T/plain.err")"
	fi ;;
*)
	fail trace_viewer_serve "printed \"$plain\" and \"$URL_k\": $(cat "$T"/*.err | head -5 | tr '\n' ' ')"
	exit 1 ;;
esac
U=$URL_k
serve w -http=127.0.0.1:0 -no_browser "$T/w.trace"

# ---- JSON endpoints ----
curl -s "$U/trace/data/meta" >"$T/meta.json"
curl -s "$U/trace/data/window?t0=0&t1=200000000&px=1000" >"$T/win.json"
curl -s "$U/trace/data/search?q=%5Eouter%24" >"$T/search.json"
curl -s "$U/trace/data/view?name=tasks" >"$T/tasks.json"
curl -s "$U/trace/data/view?name=regions" >"$T/regions.json"
curl -s "$U/trace/data/view?name=sync" >"$T/sync.json"
# shellcheck disable=SC2154
curl -s "$URL_w/trace/data/meta" >"$T/wmeta.json"
curl -s "$URL_w/trace/data/window?t0=0&t1=1000000000&px=2000" >"$T/wwin.json"
curl -s "$URL_w/trace/data/view?name=sync" >"$T/wsync.json"
"$CPROF" trace -format=text "$T/w.trace" >"$T/w.txt" 2>/dev/null
wend=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["duration"] + 1)' "$T/wmeta.json" 2>/dev/null)
curl -s "$URL_w/trace/data/window?t0=0&t1=${wend:-1}&px=300" >"$T/wall.json"
if python3 - "$T" >"$T/py.out" 2>&1 <<'EOF'; then
import json, sys
d = sys.argv[1]
meta = json.load(open(d + "/meta.json"))
names = {meta["strings"][t["name"]] for t in meta["threads"]}
assert {"producer", "consumer", "trace_known_lin", "cprof-trace"} <= names, names
assert meta["tasks"] == 1 and meta["task_rows"] == 1, meta
win = json.load(open(d + "/win.json"))
assert len(win["threads"]) == len(meta["threads"]) and win["res"] == 200000, win["res"]
main = [t for t in meta["threads"] if meta["strings"][t["name"]] == "trace_known_lin"][0]
regions = [w for w in win["threads"] if w["tid"] == main["tid"]][0]["regions"]
# outer > inner, then sleep (100 ms, kept whole at 0.2 ms a pixel)
top = [meta["strings"][s[2]] for s in regions[0]]
assert "sleep" in top and "outer" in top, top
sleep = [s for s in regions[0] if meta["strings"][s[2]] == "sleep"][0]
assert sleep[4] == 1 and 100e6 <= sleep[1] - sleep[0] < 200e6, sleep
s = json.load(open(d + "/search.json"))
assert s["total"] == 1 and s["matches"][0][0] == "region" and s["matches"][0][6] == "outer", s
tasks = json.load(open(d + "/tasks.json"))
assert [n["name"] for n in tasks["names"]] == ["transfer"] and tasks["names"][0]["hist"]["count"] == 1, tasks
regs = json.load(open(d + "/regions.json"))
counts = {n["name"]: n["hist"]["count"] for n in regs["names"]}
assert counts.get("produce") == 5 and counts.get("outer") == 1 and counts.get("sleep") == 1, counts
json.load(open(d + "/sync.json"))
# the waits: cond, sem, join and the sleep's syscall on their tracks, with arrows (the
# mutex wait can last a few microseconds, under one pixel of this window, where it is
# merged with its neighbours; the sync view below must still hold it)
wm = json.load(open(d + "/wmeta.json"))
ww = json.load(open(d + "/wwin.json"))
reasons = {wm["reasons"][s[2]] for t in ww["threads"] for s in t["state"]}
assert {"cond", "sem", "join", "syscall"} <= reasons, reasons
assert wm["arrows"] >= 9 and sum(t["samples"] for t in wm["threads"]) > 0, (wm["arrows"], wm["threads"])
ws = json.load(open(d + "/wsync.json"))
assert {r["reason"] for r in ws["rows"]} >= {"cond", "sem", "mutex", "join"}, ws["rows"]
# CPU sample weights: each thread's ticks over the whole trace (merged, 300 pixels) stand for its
# sample_weight periods, and those add up to the text's weight=N
wall = json.load(open(d + "/wall.json"))
ticks = {t["tid"]: (sum(s[2] for s in t["samples"]), sum(s[3] for s in t["samples"])) for t in wall["threads"]}
mine = {t["tid"]: (t["samples"], t["sample_weight"]) for t in wm["threads"]}
text = [l.split() for l in open(d + "/w.txt") if " cpu-sample " in l]
text_weight = sum(int(f[3].split("=")[1]) for f in text)
assert ticks == mine and sum(w for n, w in mine.values()) == text_weight and len(text) == sum(n for n, w in mine.values()), \
    (ticks, mine, text_weight, len(text))
print("meta: %d threads; window: the sleep region %.1f ms whole; search ^outer$: 1 region; tasks: transfer; regions: %s; "
      "CPU samples: %d standing for %d periods, per thread in the window as in meta and the text"
      % (len(meta["threads"]), (sleep[1] - sleep[0]) / 1e6, counts, len(text), text_weight))
EOF
	pass trace_viewer_json "$(cat "$T/py.out")"
else
	fail trace_viewer_json "$(tail -3 "$T/py.out" | tr '\n' ' ')"
fi

# ---- bad requests ----
code() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }
bad=""
for q in "t0=abc&t1=5&px=10" "t0=10&t1=10&px=10" "t0=20&t1=10&px=10" "t0=0&t1=10&px=0" "t0=0&t1=10" \
	"t0=0&t1=10&px=10x" "t0=99999999999999999999999&t1=1&px=1" "t0=-&t1=1&px=1"; do
	c=$(code "$U/trace/data/window?$q")
	[ "$c" = 400 ] || bad="$bad window?$q=$c"
done
c=$(code "$U/trace/data/window?t0=0&t1=10&px=abc")
grep -q 'invalid value "abc" for parameter px' "$T/body" || bad="$bad no-reason($(cat "$T/body"))"
[ "$(code "$U/trace/data/search?q=%28")" = 400 ] || bad="$bad search-bad-regexp"
[ "$(code "$U/trace/data/item?k=bogus&tid=1&i=0")" = 404 ] || bad="$bad item-kind"
[ "$(code "$U/trace/data/item?k=region&tid=1&d=0&i=0")" = 404 ] || bad="$bad item-no-thread"
[ "$(code "$U/trace/data/item?k=region&tid=1&d=0&i=-1")" = 400 ] || bad="$bad item-negative"
[ "$(code "$U/trace/data/view?name=bogus")" = 404 ] || bad="$bad view-unknown"
[ "$(code "$U/trace/data/nothing")" = 404 ] || bad="$bad data-unknown"
[ "$(code "$U/trace/nothing")" = 404 ] || bad="$bad page-unknown"
[ "$(code "$U/elsewhere")" = 404 ] || bad="$bad outside"
[ "$(code "$U/trace/static/nothing.js")" = 404 ] || bad="$bad asset-unknown"
[ "$(code -X POST "$U/trace/data/meta")" = 405 ] || bad="$bad post"
loc=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$U/")
[ "$loc" = "307 $U/trace/timeline" ] || bad="$bad redirect($loc)"
for a in trace.html timeline.js tviews.js trace.css style.css; do
	[ "$(code "$U/trace/static/$a")" = 200 ] || bad="$bad asset-$a"
done
if [ -z "$bad" ]; then
	pass trace_viewer_bad_requests "malformed or empty ranges, bad px, a bad regexp and a negative index: 400 with the reason; unknown kinds, threads, views and paths: 404; POST: 405; / redirects to the timeline"
else
	fail trace_viewer_bad_requests "$bad"
fi

# ---- the blocking profiles' downloads are cprof trace -pprof's ----
curl -s -D "$T/dl.h" -o "$T/sync.pb.gz" "$U/trace/pprof?kind=sync"
"$CPROF" trace -pprof=sync "$T/k.trace" >"$T/sync.cli.pb.gz" 2>/dev/null
if grep -qi 'content-disposition: attachment;filename=sync.pb.gz' "$T/dl.h" && cmp -s "$T/sync.pb.gz" "$T/sync.cli.pb.gz" &&
	[ "$(code "$U/trace/pprof?kind=bogus")" = 400 ]; then
	pass trace_viewer_pprof "/trace/pprof?kind=sync is byte for byte cprof trace -pprof=sync; a bad kind is a 400"
else
	fail trace_viewer_pprof "headers $(tr '\r\n' '  ' <"$T/dl.h"), $(cmp "$T/sync.pb.gz" "$T/sync.cli.pb.gz" 2>&1)"
fi
check_valid trace_viewer_sync "$T/sync.pb.gz"

# ---- the browser ----
if ! command -v node >/dev/null 2>&1 || [ ! -x /usr/bin/chromium ]; then
	fail trace_viewer_browser "node or /usr/bin/chromium missing: run scripts/deps.sh test"
	exit 1
fi
if [ ! -d "$web/node_modules/playwright-core" ]; then
	(cd "$web" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >"$T/npm.log" 2>&1) || {
		fail trace_viewer_browser "npm ci in tests/web failed: $(tail -3 "$T/npm.log" | tr '\n' ' ')"
		exit 1
	}
fi
HOME=$T/home node "$web/trace.mjs" "$art" "$U" "$URL_w"
info "screenshots in $art"
