#!/usr/bin/env bash
# http_endpoint.sh - Go's /debug/pprof endpoints served from inside a busy
# program (tests/progs/http_busy under the preloaded runtime), used by real
# clients: go tool pprof and cprof pprof fetch a CPU profile over HTTP and
# find the hot function; curl checks the index, cmdline, the symbol
# protocol (POST and GET, as pprof sends it), Go's errors (404 unknown
# profile, 500 when a CPU profile already runs, 400 over the duration
# limit, all with X-Go-Pprof so pprof shows them), hz=N, and every snapshot
# profile the runtime offers in proto and text forms (and as a delta). The
# program then checks itself: work result, signal handlers, its own fds.
# The endpoint's threads must block every signal and its fds be
# close-on-exec.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/http.inc
. "$(dirname "$0")/http.inc"

# It allocates too (http_alloc_before at the start, http_alloc_during all
# along), and the heap profiler samples every KiB, for the delta check.
BUSY_MODE=alloc serve main 120 CPROF_HTTP_MAX_SECONDS=20 CPROF_MEMPROFILE="$T/exit.heap" CPROF_MEM_RATE=1024
if [ -z "$PORT" ]; then
	fail http_serving "no 'serving' line on stderr: $(head -c 300 "$ERR")"
	exit 1
fi
pass http_serving "port $PORT from CPROF_HTTP=127.0.0.1:0"

# ---- the index ----
curl -s --max-time 20 "$BASE/" >"$T/index.html"
if grep -q "<title>/debug/pprof/</title>" "$T/index.html" && grep -q "href='profile'" "$T/index.html" &&
	grep -q "href='cmdline'" "$T/index.html" && grep -q "href='symbol'" "$T/index.html"; then
	pass http_index "title, profile, cmdline and symbol listed"
else
	fail http_index "$(head -c 300 "$T/index.html")"
fi
in_range http_index_redirect "$(status "http://127.0.0.1:$PORT/debug/pprof")" 301 301 "301 to /debug/pprof/ as Go's mux does"
in_range http_other_path "$(status "http://127.0.0.1:$PORT/elsewhere")" 404 404 "404 outside /debug/pprof/"

# ---- the CPU profile through go tool pprof and cprof pprof ----
go tool pprof -top "$BASE/profile?seconds=2" >"$T/go.top" 2>"$T/go.err"
pct=$(awk '$NF == "http_hot" { print $(NF-1) }' "$T/go.top" | tr -d '%' | head -1)
in_range http_go_pprof_hot "${pct:-0}" 90 100 "http_hot's cum% over 90 in go tool pprof -top of /debug/pprof/profile?seconds=2"
saved=$(sed -n 's/^Saved profile in //p' "$T/go.err")
[ -n "$saved" ] && check_valid http_go_saved "$saved"

"$CPROF" pprof -top "$BASE/profile?seconds=2" >"$T/cp.top" 2>"$T/cp.err"
pct=$(awk '$NF == "http_hot" { print $(NF-1) }' "$T/cp.top" | tr -d '%' | head -1)
in_range http_cprof_pprof_hot "${pct:-0}" 90 100 "http_hot's cum% over 90 in cprof pprof -top of the endpoint"
saved=$(sed -n 's/^Saved profile in //p' "$T/cp.err")
if [ -n "$saved" ] && [ -s "$saved" ]; then
	check_valid http_cprof_saved "$saved"
else
	fail http_cprof_saved "no 'Saved profile in' copy: $(head -c 300 "$T/cp.err")"
fi

# hz=N: the period says the rate was used.
curl -s --max-time 30 -o "$T/hz.pb.gz" "$BASE/profile?seconds=1&hz=250"
period=$(go tool pprof -raw "$T/hz.pb.gz" 2>/dev/null | awk '$1 == "Period:" { print $2 }')
in_range http_cpu_hz "${period:-0}" 4000000 4000000 "period 4 ms from hz=250"

# ---- headers and errors as Go sends them ----
hdr "$BASE/profile?seconds=1" >"$T/h.cpu"
if grep -qi '^content-type: application/octet-stream' "$T/h.cpu" &&
	grep -qi '^content-disposition: attachment; filename="profile"' "$T/h.cpu" && grep -qi '^x-content-type-options: nosniff' "$T/h.cpu"; then
	pass http_cpu_headers "octet-stream, attachment profile, nosniff"
else
	fail http_cpu_headers "$(tr '\n' ' ' <"$T/h.cpu")"
fi
curl -s -D "$T/h.unk" --max-time 10 -o "$T/b.unk" "$BASE/no-such-profile"
if grep -q '^HTTP/1.1 404' "$T/h.unk" && grep -qi '^X-Go-Pprof: 1' "$T/h.unk" && grep -qx 'Unknown profile' "$T/b.unk"; then
	pass http_unknown_profile "404, X-Go-Pprof: 1, 'Unknown profile'"
else
	fail http_unknown_profile "$(tr '\r\n' '  ' <"$T/h.unk") / $(cat "$T/b.unk")"
fi
curl -s -o /dev/null --max-time 30 "$BASE/profile?seconds=3" &
busy=$!
sleep 1
curl -s -D "$T/h.busy" --max-time 10 -o "$T/b.busy" "$BASE/profile?seconds=1"
# pprof shows the server's message.
go tool pprof -top "$BASE/profile?seconds=1" >/dev/null 2>"$T/go.busy"
wait $busy
if grep -q '^HTTP/1.1 500' "$T/h.busy" && grep -q 'Could not enable CPU profiling: cpu profiling already in use' "$T/b.busy"; then
	pass http_cpu_one_at_a_time "second CPU request: 500 $(cat "$T/b.busy")"
else
	fail http_cpu_one_at_a_time "$(head -1 "$T/h.busy") $(cat "$T/b.busy")"
fi
if grep -q 'Could not enable CPU profiling' "$T/go.busy"; then
	pass http_go_shows_error "$(grep -m1 'server response' "$T/go.busy")"
else
	fail http_go_shows_error "$(head -c 300 "$T/go.busy")"
fi
# A client that hangs up ends its capture: the next CPU profile is not refused.
curl -s -o /dev/null --max-time 1 "$BASE/profile?seconds=20"
sleep 0.5
in_range http_cpu_hangup_cancels "$(status "$BASE/profile?seconds=1")" 200 200 "200 right after a client left a 20 s capture"
curl -s -D "$T/h.long" --max-time 10 -o "$T/b.long" "$BASE/profile?seconds=21"
if grep -q '^HTTP/1.1 400' "$T/h.long" && grep -q 'limit of 20 seconds' "$T/b.long"; then
	pass http_seconds_capped "seconds=21 over CPROF_HTTP_MAX_SECONDS=20: 400"
else
	fail http_seconds_capped "$(head -1 "$T/h.long") $(cat "$T/b.long")"
fi
in_range http_bad_hz "$(status "$BASE/profile?seconds=1&hz=0")" 400 400 "400 for hz=0"

# ---- cmdline ----
curl -s --max-time 10 "$BASE/cmdline" | tr '\0' '|' >"$T/cmdline"
if [ "$(cat "$T/cmdline")" = "$PROGS/http_busy|120|$STOP|alloc" ]; then
	pass http_cmdline "arguments joined by NUL"
else
	fail http_cmdline "$(cat "$T/cmdline")"
fi

# ---- symbol: pprof's protocol, against the program's own addresses ----
off=$(nm "$PROGS/http_busy" | awk '$3 == "http_hot" { print $1 }')
base=$(awk -v exe="$PROGS/http_busy" '$6 == exe && $3 == "00000000" { split($1, r, "-"); print r[1]; exit }' "/proc/$PID/maps")
pc=$(printf '0x%x' $((0x$base + 0x$off + 4)))
got=$(curl -s --max-time 20 -H 'Content-Type: application/octet-stream' --data-binary "$pc+0x1+0x2" "$BASE/symbol")
want=$(printf 'num_symbols: 1\n%s http_hot' "$pc")
if [ "$got" = "$want" ]; then
	pass http_symbol_post "$(echo "$got" | tr '\n' '|')"
else
	fail http_symbol_post "got '$(echo "$got" | tr '\n' '|')' want '$(echo "$want" | tr '\n' '|')'"
fi
got=$(curl -s --max-time 20 "$BASE/symbol?$pc")
if [ "$got" = "$want" ]; then
	pass http_symbol_get "GET with the addresses as the query"
else
	fail http_symbol_get "got '$(echo "$got" | tr '\n' '|')'"
fi
in_range http_symbol_count "$(curl -s --max-time 10 "$BASE/symbol" | head -1 | tr -cd '0-9')" 1 1 "GET alone: num_symbols: 1"

# cprof pprof's remote symbolization against the endpoint: a gperftools
# CPU profile holding only http_hot's address and the program's maps,
# served beside the endpoint, gets its name through /debug/pprof/symbol.
mkdir -p "$T/www/debug/pprof"
python3 - "$pc" "/proc/$PID/maps" "$T/www/debug/pprof/profile" <<'PY'
import struct, sys
pc = int(sys.argv[1], 16)
words = [0, 3, 0, 10000, 0, 5, 1, pc, 0, 1, 0]
open(sys.argv[3], 'wb').write(struct.pack('<%dQ' % len(words), *words) + open(sys.argv[2], 'rb').read())
PY
cat >"$T/proxy.py" <<'EOF'
import http.server, sys, urllib.request
root, target = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        body = open(root + self.path.split('?')[0], 'rb').read()
        self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_POST(self):
        n = int(self.headers.get('Content-Length', 0))
        data = self.rfile.read(n)
        open(root + '/posted', 'wb').write(data)
        r = urllib.request.urlopen(urllib.request.Request(target + self.path, data=data, method='POST')).read()
        self.send_response(200); self.send_header('Content-Length', str(len(r))); self.end_headers(); self.wfile.write(r)
s = http.server.HTTPServer(('127.0.0.1', 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
EOF
python3 "$T/proxy.py" "$T/www" "http://127.0.0.1:$PORT" >"$T/proxy.port" 2>/dev/null &
proxy=$!
for _ in $(seq 1 50); do [ -s "$T/proxy.port" ] && break; sleep 0.1; done
"$CPROF" pprof -symbolize=remote -top "http://127.0.0.1:$(cat "$T/proxy.port")/debug/pprof/profile" >"$T/rs.top" 2>"$T/rs.err"
kill $proxy 2>/dev/null
if grep -q 'http_hot$' "$T/rs.top" && [ -s "$T/www/posted" ]; then
	pass http_cprof_remote_symbolize "cprof pprof posted '$(cat "$T/www/posted")' and named http_hot"
else
	fail http_cprof_remote_symbolize "$(head -c 300 "$T/rs.top") $(head -c 300 "$T/rs.err")"
fi

# ---- every snapshot profile the runtime offers: proto, text, delta ----
names=$(sed -n "s|.*<a href='\([a-z]*\)?debug=1'>.*|\1|p" "$T/index.html" | tr '\n' ' ')
case " $names " in
*" heap "*" allocs "* | *" allocs "*" heap "*) pass http_heap_offered "snapshot profiles offered: $names" ;;
*) fail http_heap_offered "heap and allocs not both on the index page: ${names:-none}" ;;
esac
for n in $names; do
	curl -s --max-time 30 -o "$T/$n.pb.gz" "$BASE/$n"
	check_valid "http_${n}_proto" "$T/$n.pb.gz"
	curl -s --max-time 30 -o "$T/$n.txt" "$BASE/$n?debug=1"
	if [ -s "$T/$n.txt" ] && ! grep -q 'Unknown profile' "$T/$n.txt"; then
		pass "http_${n}_text" "$(head -1 "$T/$n.txt")"
	else
		fail "http_${n}_text" "$(head -c 200 "$T/$n.txt")"
	fi
	curl -s -D "$T/h.$n.delta" --max-time 30 -o "$T/$n.delta.pb.gz" "$BASE/$n?seconds=1"
	if grep -qi "filename=\"$n-delta\"" "$T/h.$n.delta"; then
		check_valid "http_${n}_delta" "$T/$n.delta.pb.gz"
	else
		fail "http_${n}_delta" "$(tr '\r\n' '  ' <"$T/h.$n.delta")"
	fi
	in_range "http_${n}_delta_debug" "$(status "$BASE/$n?seconds=1&debug=1")" 400 400 "400: seconds and debug are incompatible"
	case $n in
	heap | allocs | block | mutex | threadcreate)
		# The legacy text forms are read by go tool pprof's own parsers.
		if go tool pprof -raw "$T/$n.txt" >"$T/$n.txt.raw" 2>"$T/$n.txt.err" && ! [ -s "$T/$n.txt.err" ]; then
			pass "http_${n}_text_read_by_go" "go tool pprof -raw: $(grep -c '^ *[0-9-].*:' "$T/$n.txt.raw") samples"
		else
			fail "http_${n}_text_read_by_go" "$(head -c 300 "$T/$n.txt.err")"
		fi
		;;
	esac
done

# Timed captures other than the CPU profile (wall), when offered.
if grep -q "href='wall'" "$T/index.html"; then
	curl -s -D "$T/h.wall" --max-time 30 -o "$T/wall.pb.gz" "$BASE/wall?seconds=1"
	check_valid http_wall_capture "$T/wall.pb.gz"
	grep -qi 'filename="wall"' "$T/h.wall" && pass http_wall_headers "attachment wall" ||
		fail http_wall_headers "$(tr '\r\n' '  ' <"$T/h.wall")"
fi

# A delta holds what happened in its window only: allocations made before
# it (http_alloc_before) cancel out, those made during it
# (http_alloc_during) remain; the absolute profile holds both.
alloc_bytes() { # file function: its alloc_space in bytes (0 when absent)
	go tool pprof -top -sample_index=alloc_space -unit=B -nodefraction=0 -nodecount=100000 "$1" 2>/dev/null |
		awk -v fn="$2" '$NF == fn { v = $4; sub(/B$/, "", v); print v + 0; found = 1; exit } END { if (!found) print 0 }'
}
before=$(alloc_bytes "$T/allocs.pb.gz" http_alloc_before)
in_range http_allocs_absolute_before "$before" 7372800 9011200 "about 2000 x 4096 = 8192000 bytes allocated by http_alloc_before"
d_before=$(alloc_bytes "$T/allocs.delta.pb.gz" http_alloc_before)
d_during=$(alloc_bytes "$T/allocs.delta.pb.gz" http_alloc_during)
in_range http_allocs_delta_before "$d_before" 0 0 "http_alloc_before absent from the 1 s delta: all of it was allocated before"
in_range http_allocs_delta_during "$d_during" 1 100000000000 "http_alloc_during present in the delta"

# ---- the endpoint's threads and fds ----
blocked_ok=0 threads=0
for t in /proc/$PID/task/*; do
	case "$(cat "$t/comm")" in MHD-*) ;; *) continue ;; esac
	threads=$((threads + 1))
	blk=$(awk '/^SigBlk/ { print $2 }' "$t/status")
	# SIGINT(2) SIGPIPE(13) SIGTERM(15) SIGUSR1(10) SIGPROF(27) all blocked
	if (((0x$blk & 0x400d202) == 0x400d202)); then blocked_ok=$((blocked_ok + 1)); fi
done
if [ "$threads" -gt 0 ] && [ "$blocked_ok" -eq "$threads" ]; then
	pass http_threads_block_signals "$threads endpoint threads, all block SIGINT/SIGPIPE/SIGTERM/SIGUSR1/SIGPROF"
else
	fail http_threads_block_signals "$blocked_ok of $threads endpoint threads block signals"
fi
leaky=""
for f in /proc/$PID/fd/*; do
	l=$(readlink "$f")
	case "$l" in socket:* | anon_inode:* | /memfd:*) ;; *) continue ;; esac
	fl=$(awk '/^flags/ { print $2 }' "/proc/$PID/fdinfo/${f##*/}")
	((0$fl & 02000000)) || leaky="$leaky ${f##*/}($l)"
done
if [ -z "$leaky" ]; then
	pass http_fds_cloexec "every socket, eventfd and memfd of the endpoint is close-on-exec"
else
	fail http_fds_cloexec "without O_CLOEXEC:$leaky"
fi

# ---- the program: unharmed, and it exits while a capture is in flight ----
curl -s -o /dev/null --max-time 60 "$BASE/profile?seconds=30" &
sleep 1
finish >"$T/finish.out"
rc=$?
line=$(cat "$T/finish.out")
if [ "$rc" -eq 0 ] && grep -q "check=ok " <<<"$line"; then
	pass http_program_unharmed "$line"
else
	fail http_program_unharmed "exit $rc: $line"
fi
wait
