#!/usr/bin/env bash
# cprof pprof -http in a real browser: Debian's chromium, headless, driven by
# playwright-core (npm, tests/web). One server per profile - a C CPU profile
# of cpu_split, Go's heap and CPU profiles from tests/data, and a
# -diff_base of two collapsed-stack files, one without samples and one with
# frames too narrow to draw until zoomed into - then tests/web/webui.mjs loads
# every view of each (no console errors, non-blank screenshots kept under
# build/test-artifacts/webui) and drives the flame graph, search, pivot,
# sample menu, refine menu, top sorting, graph and callers views.
# Also: the command line's -http rules, the loopback-only answer, and the
# download of a filtered profile read back by go tool pprof.
set -u
# shellcheck source=tests/e2e/lib.sh
. "$CPROF_TOP/tests/e2e/lib.sh"
top=$CPROF_TOP
art=$CPROF_BUILD/test-artifacts/webui
web=$top/tests/web

# ---- command line ----
"$CPROF" pprof -http=:0 -top "$top/tests/data/go-cpu.pb.gz" >/dev/null 2>"$T/e1"
rc1=$?
"$CPROF" pprof -no_browser -top "$top/tests/data/go-cpu.pb.gz" >/dev/null 2>"$T/e2"
rc2=$?
"$CPROF" pprof -http=nocolon -no_browser "$top/tests/data/go-cpu.pb.gz" >/dev/null 2>"$T/e3"
rc3=$?
if [ $rc1 -ne 0 ] && grep -q 'incompatible with an output format' "$T/e1" &&
	[ $rc2 -ne 0 ] && grep -q 'only makes sense with -http' "$T/e2" &&
	[ $rc3 -ne 0 ] && grep -q 'want \[host\]:\[port\]' "$T/e3"; then
	pass webui_flags "-http with -top, -no_browser alone and a bad address are refused with a reason"
else
	fail webui_flags "exits $rc1 $rc2 $rc3: $(cat "$T/e1" "$T/e2" "$T/e3" | tr '\n' ' ')"
fi

# ---- profiles ----
if ! "$CPROF" run -cpuprofile="$T/cpu.prof" -- "$PROGS/cpu_split" 2000 >/dev/null 2>"$T/run.err"; then
	fail webui_profile "cprof run cpu_split failed: $(tail -3 "$T/run.err")"
	exit 1
fi
printf 'main;parse;lex 50\nmain;parse;tokens 30\nmain;render 40\nmain;fresh 20\n' >"$T/new.txt"
printf 'main;parse;lex 20\nmain;parse;tokens 30\nmain;render 80\nmain;gone 25\n' >"$T/base.txt"
printf 'main;idle 0\n' >"$T/empty.txt" # no samples: every view says so, none fails
# callees under 0.3 px at the first draw: left out by the server until zoomed into
printf 'm;big 100000\nm;small;s1 20\nm;small;s2 20\n' >"$T/wide.txt"

pids=""
stop_servers() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
}
trap 'stop_servers; rm -rf "$T"' EXIT
# serve NAME ARGS...: start a server, set URL_NAME from its first line.
serve() {
	local name=$1 i
	shift
	"$CPROF" pprof -http=127.0.0.1:0 -no_browser "$@" >"$T/$name.out" 2>"$T/$name.err" &
	pids="$pids $!"
	for i in $(seq 1 100); do
		grep -q '^Serving web UI on ' "$T/$name.out" 2>/dev/null && break
		sleep 0.05
	done
	eval "URL_$name=\$(sed -n 's/^Serving web UI on //p' \"\$T/\$name.out\")"
}
serve cpu "$T/cpu.prof"
serve heap "$top/tests/data/go-heap.pb.gz"
serve diff -diff_base="$T/base.txt" "$T/new.txt"
serve go "$top/tests/data/go-cpu.pb.gz"
serve empty "$T/empty.txt"
serve wide "$T/wide.txt"
# shellcheck disable=SC2154
if [ -z "$URL_cpu" ] || [ -z "$URL_heap" ] || [ -z "$URL_diff" ] || [ -z "$URL_go" ] || [ -z "$URL_empty" ] || [ -z "$URL_wide" ]; then
	fail webui_serve "a server did not start: $(cat "$T"/*.err | head -5 | tr '\n' ' ')"
	exit 1
fi
case "$URL_cpu" in
http://127.0.0.1:[0-9]*) pass webui_serve "prints its URL ($URL_cpu)" ;;
*) fail webui_serve "printed \"$URL_cpu\"" ;;
esac

# ---- HTTP: redirect, 404, bad parameters, download of the filtered profile ----
loc=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$URL_cpu/?si=cpu")
nf=$(curl -s -o /dev/null -w '%{http_code}' "$URL_cpu/ui/nothing")
bad=$(curl -s -w ' %{http_code}' "$URL_cpu/ui/data/top?si=bogus")
if [ "$loc" = "307 $URL_cpu/ui/flamegraph?si=cpu" ] && [ "$nf" = 404 ] &&
	case "$bad" in *'must be one of'*' 400') true ;; *) false ;; esac; then
	pass webui_http "/ redirects to the flame graph keeping the query; unknown page 404; bad si 400 with pprof's reason"
else
	fail webui_http "redirect \"$loc\", unknown page $nf, bad si \"$bad\""
fi
curl -s -o "$T/dl.pb.gz" -D "$T/dl.h" "$URL_cpu/ui/download?f=func_sixty"
go tool pprof -top "$T/dl.pb.gz" >"$T/dl.top" 2>"$T/dl.err"
if grep -qi 'content-disposition: attachment;filename=profile.pb.gz' "$T/dl.h" &&
	grep -q 'func_sixty' "$T/dl.top" && ! grep -q 'func_ten\|func_thirty' "$T/dl.top"; then
	pass webui_download "?f=func_sixty downloads a profile go tool pprof reads, with func_sixty and without the others"
else
	fail webui_download "headers $(tr '\r\n' '  ' <"$T/dl.h"), top: $(head -12 "$T/dl.top" "$T/dl.err" | tr '\n' ' ')"
fi

# ---- the browser ----
if ! command -v node >/dev/null 2>&1 || [ ! -x /usr/bin/chromium ]; then
	fail webui_browser "node or /usr/bin/chromium missing: run scripts/deps.sh test"
	exit 1
fi
if [ ! -d "$web/node_modules/playwright-core" ]; then
	(cd "$web" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >"$T/npm.log" 2>&1) || {
		fail webui_browser "npm ci in tests/web failed: $(tail -3 "$T/npm.log" | tr '\n' ' ')"
		exit 1
	}
fi
# Chromium wants a writable home of its own.
HOME=$T/home node "$web/webui.mjs" "$art" cpu="$URL_cpu" heap="$URL_heap" diff="$URL_diff" go="$URL_go" empty="$URL_empty" wide="$URL_wide"
info "screenshots in $art"
