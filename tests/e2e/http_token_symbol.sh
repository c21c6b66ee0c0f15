#!/usr/bin/env bash
# http_token_symbol.sh - remote symbolization against an endpoint that wants
# a token (CPROF_HTTP_TOKEN). pprof builds the symbol URL without the
# profile URL's query, so the token given as token= in the URL is lost on
# the /debug/pprof/symbol request. cprof pprof carries a token= parameter
# over to the symbol request of the same host: against a test server
# (http_token_symbol.py) whose profile has a location without a name,
# cprof pprof -symbolize=remote names it from the server, every request
# authorized. go tool pprof's symbol request is refused (401, the limit
# docs/USAGE.md tells about) while the profile itself is read; with
# -symbolize=none, the workaround, it says nothing about symbols.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

TOKEN=5f2b-token
python3 "$(dirname "$0")/http_token_symbol.py" "$TOKEN" "$T/port" "$T/log" 2>"$T/server.err" &
srv=$!
trap 'kill $srv 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.1; done
if [ ! -s "$T/port" ]; then
	fail token_symbol_server "test server did not start: $(head -c 300 "$T/server.err")"
	exit 1
fi
URL="http://127.0.0.1:$(cat "$T/port")/debug/pprof/profile?seconds=1&token=$TOKEN"

: >"$T/log"
"$CPROF" pprof -symbolize=remote -top "$URL" >"$T/cp.top" 2>"$T/cp.err"
rc=$?
if [ $rc -eq 0 ] && grep -q 'remote_named_fn' "$T/cp.top"; then
	pass token_symbol_cprof "cprof pprof named the location from /debug/pprof/symbol: $(grep -m1 remote_named_fn "$T/cp.top" | tr -s ' ')"
else
	fail token_symbol_cprof "exit $rc: $(head -c 300 "$T/cp.err") / $(tail -n 2 "$T/cp.top" | tr '\n' ' ')"
fi
if grep -q '^POST /debug/pprof/symbol authorized' "$T/log" && ! grep -q refused "$T/log"; then
	pass token_symbol_cprof_requests "every request carried the token: $(tr '\n' ';' <"$T/log")"
else
	fail token_symbol_cprof_requests "requests: $(tr '\n' ';' <"$T/log")"
fi

# go tool pprof: the symbol request loses the token (a limit of pprof).
: >"$T/log"
go tool pprof -symbolize=remote -top "$URL" >"$T/go.top" 2>"$T/go.err"
if grep -q '^POST /debug/pprof/symbol refused' "$T/log" && grep -q '401' "$T/go.err"; then
	pass token_symbol_go_limit "go tool pprof's symbol request has no token: $(grep -m1 401 "$T/go.err" | head -c 160)"
else
	fail token_symbol_go_limit "requests: $(tr '\n' ';' <"$T/log"); stderr: $(head -c 300 "$T/go.err")"
fi
: >"$T/log"
go tool pprof -symbolize=none -top "$URL" >"$T/go2.top" 2>"$T/go2.err"
rc=$?
if [ $rc -eq 0 ] && ! grep -q 401 "$T/go2.err" && ! grep -q symbol "$T/log"; then
	pass token_symbol_go_workaround "go tool pprof -symbolize=none: exit 0, no symbol request, no error"
else
	fail token_symbol_go_workaround "exit $rc, requests: $(tr '\n' ';' <"$T/log"); stderr: $(head -c 300 "$T/go2.err")"
fi
