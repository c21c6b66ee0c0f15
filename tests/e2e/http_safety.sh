#!/usr/bin/env bash
# http_safety.sh - who may talk to the endpoint. A wildcard or any
# non-loopback address without CPROF_HTTP_TOKEN is refused with a clear
# message and the program runs on unharmed; with a token, requests without
# it (or with a wrong one) get 401 with X-Go-Pprof (pprof shows why), and
# the token is accepted as "Authorization: Bearer" and as token=, also by
# go tool pprof. Then the C API (tests/progs/http_api_linked).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/http.inc
. "$(dirname "$0")/http.inc"

for addr in 0.0.0.0:0 "[::]:0" ":0"; do
	serve refuse 1 CPROF_HTTP="$addr"
	finish >"$T/finish.out"
	rc=$?
	if [ -z "$PORT" ] && grep -qF "refusing to serve /debug/pprof/ on $addr: " "$ERR" && grep -q "CPROF_HTTP_TOKEN is not set" "$ERR" &&
		[ "$rc" -eq 0 ] && grep -q 'check=ok' "$T/finish.out"; then
		pass "http_refuse_${addr//[^0-9a-z]/_}" "$(head -c 120 "$ERR")..."
	else
		fail "http_refuse_${addr//[^0-9a-z]/_}" "port '$PORT' exit $rc: $(head -c 300 "$ERR")"
	fi
done
serve badaddr 1 CPROF_HTTP=localhost
finish >/dev/null
grep -q 'want HOST:PORT' "$ERR" && pass http_bad_address "$(head -1 "$ERR")" || fail http_bad_address "$(head -c 300 "$ERR")"

TOKEN=8c1f0e-secret
serve token 120 CPROF_HTTP=0.0.0.0:0 CPROF_HTTP_TOKEN=$TOKEN
if [ -z "$PORT" ]; then
	fail http_token_serving "$(head -c 300 "$ERR")"
	exit 1
fi
pass http_token_serving "$(head -1 "$ERR")"
curl -s -D "$T/h.none" --max-time 10 -o "$T/b.none" "$BASE/"
if grep -q '^HTTP/1.1 401' "$T/h.none" && grep -qi '^X-Go-Pprof: 1' "$T/h.none" && grep -qi '^WWW-Authenticate: Bearer' "$T/h.none"; then
	pass http_token_required "401 without the token: $(cat "$T/b.none")"
else
	fail http_token_required "$(head -1 "$T/h.none")"
fi
in_range http_token_wrong "$(status "$BASE/" -H "Authorization: Bearer ${TOKEN}x")" 401 401 "401 for a wrong token"
in_range http_token_prefix "$(status "$BASE/?token=${TOKEN%?}")" 401 401 "401 for a prefix of the token"
in_range http_token_other_paths "$(status "http://127.0.0.1:$PORT/elsewhere")" 401 401 "401 before any routing"
in_range http_token_bearer "$(status "$BASE/" -H "Authorization: Bearer $TOKEN")" 200 200 "200 with Authorization: Bearer"
in_range http_token_param "$(status "$BASE/cmdline?token=$TOKEN")" 200 200 "200 with token="
go tool pprof -raw "$BASE/profile?seconds=1&token=$TOKEN" >/dev/null 2>"$T/go.err"
grep -q 'Saved profile' "$T/go.err" && pass http_token_go_pprof "go tool pprof with token= in the URL" ||
	fail http_token_go_pprof "$(head -c 300 "$T/go.err")"
go tool pprof -raw "$BASE/profile?seconds=1" >/dev/null 2>"$T/go.err"
grep -q 'server response: 401.*unauthorized' "$T/go.err" && pass http_token_go_pprof_401 "$(grep -m1 'server response' "$T/go.err")" ||
	fail http_token_go_pprof_401 "$(head -c 300 "$T/go.err")"
finish >"$T/finish.out"
grep -q 'check=ok' "$T/finish.out" && pass http_token_program_unharmed "$(cat "$T/finish.out")" ||
	fail http_token_program_unharmed "$(cat "$T/finish.out")"

out=$("$PROGS/http_api_linked" 2>"$T/api.err")
st=$?
while read -r verdict check rest; do
	case "$verdict" in
	ok) pass "http_api_$check" "$rest" ;;
	bad) fail "http_api_$check" "$rest" ;;
	esac
done <<<"$out"
in_range http_api_exit "$st" 0 0 "exit status 0"

# One endpoint per run: a shell that serves starts two programs (one in the
# background), which inherit CPROF_HTTP and do not serve; an exec'd image
# serves again.
CPROF_HTTP=127.0.0.1:0 LD_PRELOAD="$CPROF_BUILD/lib/libcprof.so" \
	sh -c "'$PROGS/http_busy' 1 & '$PROGS/http_busy' 1; wait" >"$T/spawn.out" 2>"$T/spawn.err"
in_range http_one_endpoint_per_run "$(grep -c 'serving /debug/pprof/' "$T/spawn.err")" 1 1 \
	"one 'serving' line for sh and the two programs it spawned ($(grep -c 'check=ok' "$T/spawn.out") of 2 ok)"
CPROF_HTTP=127.0.0.1:0 LD_PRELOAD="$CPROF_BUILD/lib/libcprof.so" \
	sh -c "exec '$PROGS/http_busy' 1" >"$T/exec.out" 2>"$T/exec.err"
in_range http_exec_serves_again "$(grep -c 'serving /debug/pprof/' "$T/exec.err")" 2 2 "sh, then the program it exec'd in its place"
