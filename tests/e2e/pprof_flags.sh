#!/usr/bin/env bash
# The source and output flags of `cprof pprof` that change no report engine:
# -add_comment, -buildid, -topproto, -tools / $PPROF_TOOLS, -intel_syntax,
# -tls_ca / -tls_cert / -tls_key, the viewers (-eog, -evince, -gv,
# -kcachegrind). Compared with `go tool pprof` byte for byte where its
# output is deterministic; else checked for what pprof documents.
# Prints "PASS <name>" or "FAIL <name>: <why>" per check.
set -u
top=${CPROF_TOP:?} build=${CPROF_BUILD:?}
cprof=$build/bin/cprof
data=$top/tests/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home PPROF_TMPDIR=$tmp/pprof GOCACHE=$tmp/gocache GOFLAGS=
mkdir -p "$HOME" "$PPROF_TMPDIR"
have_go=false
command -v go >/dev/null 2>&1 && have_go=true

compare() { # name args...
	local name=$1; shift
	if ! $have_go; then
		echo "PASS $name (go not installed: not compared)"
		return
	fi
	"$cprof" pprof "$@" >"$tmp/ours" 2>"$tmp/ours.err"
	local rc1=$?
	go tool pprof "$@" >"$tmp/theirs" 2>"$tmp/theirs.err"
	local rc2=$?
	if [ $rc1 -ne 0 ] && [ $rc2 -ne 0 ]; then
		echo "PASS $name (both fail)"
	elif [ $rc1 -ne $rc2 ]; then
		echo "FAIL $name: exit status $rc1, go tool pprof $rc2: $(head -c 300 "$tmp/ours.err")"
	elif cmp -s "$tmp/ours" "$tmp/theirs"; then
		echo "PASS $name"
	else
		echo "FAIL $name: $(diff "$tmp/ours" "$tmp/theirs" | head -6 | tr '\n' '|')"
	fi
}

# ---- -add_comment ----
for f in go-cpu go-heap go-mutex; do
	compare "add_comment_comments_$f" -comments -add_comment='hello, world' "$data/$f.pb.gz"
	compare "add_comment_top_$f" -top -nodecount=5 -add_comment='a note' "$data/$f.pb.gz"
	compare "add_comment_traces_$f" -traces -add_comment='# hidden in headers' "$data/$f.pb.gz"
done
compare add_comment_merged -comments -add_comment=merged "$data/go-cpu.pb.gz" "$data/go-cpu-many.pb.gz"
"$cprof" pprof -proto -add_comment='kept by proto' "$data/go-cpu.pb.gz" >"$tmp/c.pb.gz" 2>/dev/null
if [ "$("$cprof" pprof -comments "$tmp/c.pb.gz" 2>&1)" = "kept by proto" ]; then
	echo "PASS add_comment_proto"
else
	echo "FAIL add_comment_proto: -comments of the -proto output: $("$cprof" pprof -comments "$tmp/c.pb.gz" 2>&1 | head -3)"
fi
compare add_comment_proto_go -comments "$tmp/c.pb.gz"

# ---- -buildid ----
compare buildid_raw -raw -buildid=deadbeef "$data/go-cpu.pb.gz"
compare buildid_top -top -nodecount=3 -buildid=0123abcd "$data/go-heap.pb.gz"
compare buildid_arg -raw 0123abcd "$data/go-cpu.pb.gz" "$data/go-cpu-many.pb.gz"
compare buildid_flag_over_arg -raw -buildid=feed 0123abcd "$data/go-cpu.pb.gz" "$data/go-cpu-many.pb.gz"

# ---- -topproto: compared as go tool pprof -raw prints each output ----
topproto() { # name args...
	local name=$1; shift
	if ! $have_go; then
		echo "PASS $name (go not installed: not compared)"
		return
	fi
	"$cprof" pprof -topproto "$@" >"$tmp/tp_ours.pb.gz" 2>"$tmp/ours.err" &&
		go tool pprof -topproto "$@" >"$tmp/tp_theirs.pb.gz" 2>/dev/null &&
		go tool pprof -raw "$tmp/tp_ours.pb.gz" >"$tmp/ours" 2>/dev/null &&
		go tool pprof -raw "$tmp/tp_theirs.pb.gz" >"$tmp/theirs" 2>/dev/null
	local rc=$?
	if [ $rc -ne 0 ]; then
		echo "FAIL $name: a command failed: $(head -c 300 "$tmp/ours.err")"
	elif cmp -s "$tmp/ours" "$tmp/theirs"; then
		echo "PASS $name"
	else
		echo "FAIL $name: $(diff "$tmp/ours" "$tmp/theirs" | head -6 | tr '\n' '|')"
	fi
}
for f in go-cpu go-cpu-many go-heap go-heap-big go-block go-mutex; do
	topproto "topproto_$f" "$data/$f.pb.gz"
done
topproto topproto_lines -lines "$data/go-heap.pb.gz"
topproto topproto_addresses -addresses "$data/go-cpu-many.pb.gz"
topproto topproto_files -files "$data/go-cpu.pb.gz"
topproto topproto_objects -inuse_objects "$data/go-heap-big.pb.gz"
topproto topproto_unit_auto -unit=auto "$data/go-block.pb.gz"
topproto topproto_unit_ms -unit=ms "$data/go-cpu-many.pb.gz"
topproto topproto_focus_cum -focus=main -cum "$data/go-block.pb.gz"
topproto topproto_nodecount -nodecount=3 "$data/go-cpu-many.pb.gz"
topproto topproto_noinlines -noinlines "$data/go-cpu-many.pb.gz"
topproto topproto_comment -add_comment=x "$data/go-mutex.pb.gz"
# cprof reads its own output back: cum and flat sample types
"$cprof" pprof -topproto "$data/go-heap.pb.gz" >"$tmp/tp.pb.gz" 2>/dev/null
if "$cprof" pprof -raw "$tmp/tp.pb.gz" 2>/dev/null | grep -q '^cum/kB flat/kB$'; then
	echo "PASS topproto_readback"
else
	echo "FAIL topproto_readback: no cum/kB flat/kB sample types in -raw of the output"
fi

# ---- -tools / $PPROF_TOOLS and -intel_syntax (-disasm's objdump) ----
# go tool pprof 1.19 disassembles with Go's own disassembler: it ignores
# -tools and refuses -intel_syntax, so these follow google/pprof's binutils.
if command -v objdump >/dev/null 2>&1 && command -v cc >/dev/null 2>&1 &&
	cc -O2 -g -no-pie -std=gnu11 -D_GNU_SOURCE -I"$top/include" -o "$tmp/cpu_split" \
		"$top/tests/progs/cpu_split.c" -lpthread -ldl -lm 2>"$tmp/cc.err" &&
	"$cprof" run -cpuprofile="$tmp/split.prof" -- "$tmp/cpu_split" 300 >/dev/null 2>&1; then
	p=$tmp/split.prof
	dis() { "$cprof" pprof -disasm=work_unit "$@" "$p" 2>"$tmp/dis.err"; }
	dis >"$tmp/att"
	mkdir -p "$tmp/tools" "$tmp/other"
	printf '#!/bin/sh\necho used >>"%s"\nexec objdump "$@"\n' "$tmp/used" >"$tmp/tools/objdump"
	chmod +x "$tmp/tools/objdump"
	rm -f "$tmp/used"
	if dis -tools="$tmp/tools" >"$tmp/out" && cmp -s "$tmp/out" "$tmp/att" && [ -s "$tmp/used" ]; then
		echo "PASS tools_dir"
	else
		echo "FAIL tools_dir: the objdump in -tools=DIR was not run, or the report differs: $(head -c 200 "$tmp/dis.err")"
	fi
	rm -f "$tmp/used"
	if dis -tools="$tmp/other,objdump:$tmp/tools" >"$tmp/out" && cmp -s "$tmp/out" "$tmp/att" && [ -s "$tmp/used" ]; then
		echo "PASS tools_named"
	else
		echo "FAIL tools_named: objdump:DIR was not used: $(head -c 200 "$tmp/dis.err")"
	fi
	rm -f "$tmp/used"
	if PPROF_TOOLS=$tmp/tools dis >"$tmp/out" && cmp -s "$tmp/out" "$tmp/att" && [ -s "$tmp/used" ]; then
		echo "PASS tools_env"
	else
		echo "FAIL tools_env: the objdump in \$PPROF_TOOLS was not run: $(head -c 200 "$tmp/dis.err")"
	fi
	rm -f "$tmp/used"
	if PPROF_TOOLS=$tmp/tools dis -tools= >"$tmp/out" && cmp -s "$tmp/out" "$tmp/att" && [ ! -e "$tmp/used" ]; then
		echo "PASS tools_flag_over_env"
	else
		echo "FAIL tools_flag_over_env: -tools= did not override \$PPROF_TOOLS"
	fi
	if PPROF_TOOLS=$tmp/tools dis -tools="$tmp/other" >"$tmp/out"; then
		echo "FAIL tools_missing: succeeded with no objdump in -tools"
	elif grep -q "no objdump found in -tools=$tmp/other" "$tmp/dis.err" && [ ! -s "$tmp/out" ]; then
		echo "PASS tools_missing"
	else
		echo "FAIL tools_missing: $(head -c 300 "$tmp/dis.err")"
	fi
	# -intel_syntax: the same rows, objdump -M intel's text
	dis -intel_syntax >"$tmp/intel"
	addr=$(awk '$3 ~ /:$/ { sub(":", "", $3); print $3; exit }' "$tmp/intel")
	want=$(objdump -d -w -z --no-show-raw-insn -M intel --start-address=0x$addr \
		--stop-address=$(printf '0x%x' $((0x$addr + 16))) "$tmp/cpu_split" |
		awk -F'\t' -v a="$addr:" '$1 ~ a { print $2; exit }' | sed 's/ *$//')
	got=$(awk -v a="$addr:" '$3 == a { sub(/^.*: /, ""); sub(/ *;.*$/, ""); sub(/ *$/, ""); print; exit }' "$tmp/intel")
	if [ -n "$addr" ] && [ "$(grep -c ROUTINE "$tmp/intel")" = "$(grep -c ROUTINE "$tmp/att")" ] &&
		! grep -q '%[a-z]' "$tmp/intel" && grep -q '%[a-z]' "$tmp/att" && [ -n "$want" ] && [ "$got" = "$want" ]; then
		echo "PASS intel_syntax"
	else
		echo "FAIL intel_syntax: row $addr: \"$got\", objdump -M intel: \"$want\""
	fi
else
	echo "PASS tools_skipped (no objdump or cc, or cprof run failed: $(head -c 200 "$tmp/cc.err"))"
fi

# ---- -tls_ca, -tls_cert, -tls_key: an `openssl s_server -WWW` that wants a client certificate ----
# go tool pprof 1.19 fetches with net/http's default client and ignores these
# flags, so this checks what google/pprof's transport documents.
tls_test() {
	local d=$tmp/tls port pid="" i
	mkdir -p "$d" && cd "$d" || return
	{
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=cprof-test-ca &&
		openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 &&
		printf 'subjectAltName=IP:127.0.0.1\n' >ext &&
		openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext &&
		openssl req -newkey rsa:2048 -nodes -keyout cli.key -out cli.csr -subj /CN=client &&
		openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cli.pem -days 2
	} >/dev/null 2>&1 || { echo "FAIL tls_setup: openssl could not make the certificates"; cd - >/dev/null; return; }
	cp "$data/go-heap.pb.gz" prof.pb.gz
	for i in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 40000))
		openssl s_server -quiet -accept "127.0.0.1:$port" -cert srv.pem -key srv.key \
			-CAfile ca.pem -Verify 1 -WWW >srv.log 2>&1 &
		pid=$!
		for _ in $(seq 50); do
			(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && break
		pid=""
	done
	cd - >/dev/null || return
	if [ -z "$pid" ]; then
		echo "FAIL tls_setup: openssl s_server did not start: $(head -c 200 "$d/srv.log")"
		return
	fi
	local url=https://127.0.0.1:$port/prof.pb.gz
	"$cprof" pprof -top "$data/go-heap.pb.gz" >"$tmp/want" 2>/dev/null
	if "$cprof" pprof -top -tls_ca="$d/ca.pem" -tls_cert="$d/cli.pem" -tls_key="$d/cli.key" "$url" \
		>"$tmp/out" 2>"$tmp/err" && cmp -s "$tmp/out" "$tmp/want"; then
		echo "PASS tls_client_cert"
	else
		echo "FAIL tls_client_cert: $(head -c 300 "$tmp/err")"
	fi
	if "$cprof" pprof -top -tls_ca="$d/ca.pem" "$url" >"$tmp/out" 2>"$tmp/err"; then
		echo "FAIL tls_no_client_cert: fetched without the client certificate the server wants"
	else
		echo "PASS tls_no_client_cert"
	fi
	if "$cprof" pprof -top -tls_cert="$d/cli.pem" -tls_key="$d/cli.key" "$url" >"$tmp/out" 2>"$tmp/err"; then
		echo "FAIL tls_no_ca: trusted a server certificate of an unknown CA"
	elif grep -qi "certificate" "$tmp/err"; then
		echo "PASS tls_no_ca"
	else
		echo "FAIL tls_no_ca: $(head -c 300 "$tmp/err")"
	fi
	if "$cprof" pprof -top -tls_ca="$d/missing.pem" "$url" >"$tmp/out" 2>"$tmp/err"; then
		echo "FAIL tls_missing_ca: succeeded"
	elif grep -q "could not load CA specified by -tls_ca: open $d/missing.pem" "$tmp/err"; then
		echo "PASS tls_missing_ca"
	else
		echo "FAIL tls_missing_ca: $(head -c 300 "$tmp/err")"
	fi
	if "$cprof" pprof -top -tls_cert="$d/cli.pem" "$url" >"$tmp/out" 2>"$tmp/err"; then
		echo "FAIL tls_cert_without_key: succeeded"
	elif grep -q -- "-tls_cert is specified, so -tls_key must also be specified" "$tmp/err"; then
		echo "PASS tls_cert_without_key"
	else
		echo "FAIL tls_cert_without_key: $(head -c 300 "$tmp/err")"
	fi
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	# a local file does not use them
	if "$cprof" pprof -top -tls_ca="$d/missing.pem" "$data/go-heap.pb.gz" >"$tmp/out" 2>/dev/null &&
		cmp -s "$tmp/out" "$tmp/want"; then
		echo "PASS tls_local_file"
	else
		echo "FAIL tls_local_file: -tls_ca changed a local file's report"
	fi
}
if command -v openssl >/dev/null 2>&1; then
	tls_test
else
	echo "PASS tls_skipped (openssl is not installed)"
fi

# ---- -eog, -evince, -gv, -kcachegrind: fake viewers on PATH copy what they are given ----
vd=$tmp/viewers
mkdir -p "$vd/bin" "$vd/tmp"
for v in eog evince gv kcachegrind; do
	printf '#!/bin/sh\nfor a; do last=$a; done\necho "$(basename "$0") $*" >>"%s/args"\ncp "$last" "%s/got.$(basename "$0")"\n' \
		"$vd" "$vd" >"$vd/bin/$v"
	chmod +x "$vd/bin/$v"
done
view() { # tool viewer args... : run tool with the fake viewers, the file it got in $vd/got.<viewer>
	local tool=$1 v=$2; shift 2
	rm -f "$vd/got.$v" "$vd/args"
	if [ "$tool" = go ]; then
		PATH=$vd/bin:$PATH TMPDIR=$vd/tmp go tool pprof "-$v" "$@" >"$vd/out" 2>"$vd/err"
	else
		PATH=$vd/bin:$PATH TMPDIR=$vd/tmp "$cprof" pprof "-$v" "$@" >"$vd/out" 2>"$vd/err"
	fi
}
f=$data/go-cpu.pb.gz
# go tool pprof waits a second after starting a viewer: its three runs go in parallel.
declare -A vstate
for v in eog gv kcachegrind; do
	if ! command -v dot >/dev/null 2>&1 && [ $v != kcachegrind ]; then
		vstate[$v]="skip"
		continue
	fi
	view cprof $v "$f"
	rc=$?
	mv "$vd/got.$v" "$vd/ours.$v" 2>/dev/null
	if [ $rc -ne 0 ] || [ ! -s "$vd/ours.$v" ]; then
		vstate[$v]="FAIL viewer_$v: the viewer got no file: $(head -c 300 "$vd/err")"
	elif [ -n "$(ls "$vd/tmp")" ]; then
		vstate[$v]="FAIL viewer_$v: the temp file was left: $(ls "$vd/tmp")"
		rm -rf "${vd:?}/tmp/"*
	fi
done
if $have_go; then
	for v in eog gv kcachegrind; do
		[ -z "${vstate[$v]:-}" ] || continue
		PATH=$vd/bin:$PATH TMPDIR=$vd/tmp go tool pprof "-$v" "$f" >/dev/null 2>&1 &
	done
	wait
fi
for v in eog gv kcachegrind; do
	if [ "${vstate[$v]:-}" = skip ]; then
		echo "PASS viewer_$v (no graphviz: skipped)"
	elif [ -n "${vstate[$v]:-}" ]; then
		echo "${vstate[$v]}"
	elif ! $have_go; then
		echo "PASS viewer_$v (go not installed: not compared)"
	elif cmp -s "$vd/ours.$v" "$vd/got.$v"; then
		echo "PASS viewer_$v"
	else
		echo "FAIL viewer_$v: the file differs from what go tool pprof gives $v"
	fi
done
rm -rf "${vd:?}/tmp/"*
if command -v dot >/dev/null 2>&1; then
	view cprof evince -focus=burn "$f"
	if [ "$(head -c 5 "$vd/got.evince" 2>/dev/null)" = "%PDF-" ] && grep -qx "evince $vd/tmp/pprof.*\.pdf" "$vd/args"; then
		echo "PASS viewer_evince"
	else
		echo "FAIL viewer_evince: $(cat "$vd/args" 2>/dev/null) $(head -c 300 "$vd/err")"
	fi
	if grep -qx "gv --noantialias $vd/tmp/pprof.*\.ps" <(view cprof gv "$f"; cat "$vd/args"); then
		echo "PASS viewer_gv_args"
	else
		echo "FAIL viewer_gv_args: $(cat "$vd/args")"
	fi
fi
# -output: the file, no viewer
view cprof kcachegrind -output="$vd/out.grind" "$f"
if [ ! -e "$vd/got.kcachegrind" ] && cmp -s "$vd/out.grind" <("$cprof" pprof -callgrind "$f" 2>/dev/null); then
	echo "PASS viewer_output_file"
else
	echo "FAIL viewer_output_file: the viewer ran, or the file is not -callgrind's"
fi
# not installed: an error naming it
for v in eog evince gv kcachegrind; do
	rm -f "$vd/bin/$v.off"
	mv "$vd/bin/$v" "$vd/bin/$v.off"
	PATH=$vd/bin:/usr/bin:/bin TMPDIR=$vd/tmp "$cprof" pprof -$v "$f" >"$vd/out" 2>"$vd/err"
	rc=$?
	mv "$vd/bin/$v.off" "$vd/bin/$v"
	if [ $rc -ne 0 ] && grep -q "the viewer $v is not installed" "$vd/err" && [ -z "$(ls "$vd/tmp")" ]; then
		echo "PASS viewer_missing_$v"
	elif ! command -v dot >/dev/null 2>&1 && [ $v != kcachegrind ]; then
		echo "PASS viewer_missing_$v (no graphviz: skipped)"
	else
		echo "FAIL viewer_missing_$v: exit $rc, $(head -c 300 "$vd/err") $(ls "$vd/tmp")"
	fi
done
# the interactive shell: the command starts the viewer; the file is gone when cprof exits
rm -f "$vd/got.kcachegrind"
printf 'kcachegrind\nquit\n' | PATH=$vd/bin:$PATH TMPDIR=$vd/tmp "$cprof" pprof "$f" >/dev/null 2>&1
for _ in $(seq 50); do [ -e "$vd/got.kcachegrind" ] && break; sleep 0.1; done
if cmp -s "$vd/got.kcachegrind" <("$cprof" pprof -callgrind "$f" 2>/dev/null) && [ -z "$(ls "$vd/tmp")" ]; then
	echo "PASS viewer_interactive"
else
	echo "FAIL viewer_interactive: the viewer did not get the callgrind file, or it was left: $(ls "$vd/tmp")"
fi
