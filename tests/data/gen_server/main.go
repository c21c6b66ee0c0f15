// gen_server is the live pprof endpoint tests/e2e/pprof_sources.sh fetches
// from: Go's net/http/pprof on a loopback port, plus two handlers of its
// own. /debug/pprof/legacy serves a gperftools-format (legacy binary) CPU
// profile of this process's own call stack, fixed from run to run, whose
// addresses only the server can name (through /debug/pprof/symbol), and
// /debug/pprof/fail answers as pprof endpoints answer errors.
//
// Usage: gen_server PORTFILE   (listens on 127.0.0.1:0, writes the port)
// It exits after 120 s on its own.
package main

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"strconv"
	"time"
)

var sink int

//go:noinline
func leafWork(n int) int {
	for i := 0; i < n; i++ {
		sink += i * i
	}
	return sink
}

//go:noinline
func middle(pcs []uintptr) int {
	return runtime.Callers(1, pcs)
}

func legacy(w http.ResponseWriter, r *http.Request) {
	pcs := make([]uintptr, 32)
	n := middle(pcs)
	var b bytes.Buffer
	word := func(v uint64) { binary.Write(&b, binary.LittleEndian, v) }
	for _, h := range []uint64{0, 3, 0, 10000, 0} {
		word(h)
	}
	for k, count := range []uint64{7, 3} {
		word(count)
		word(uint64(n - k))
		for _, pc := range pcs[k:n] {
			word(uint64(pc))
		}
	}
	word(0)
	word(1)
	word(0)
	maps, _ := os.ReadFile("/proc/self/maps")
	b.Write(maps)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(b.Bytes())
}

func fail(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Go-Pprof", "1")
	w.WriteHeader(http.StatusBadRequest)
	w.Write([]byte("profile duration exceeds server's WriteTimeout"))
}

func main() {
	http.HandleFunc("/debug/pprof/legacy", legacy)
	http.HandleFunc("/debug/pprof/fail", fail)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	go func() {
		for {
			leafWork(1000000)
		}
	}()
	time.AfterFunc(120*time.Second, func() { os.Exit(0) })
	if err := os.WriteFile(os.Args[1]+".tmp", []byte(strconv.Itoa(port)), 0o644); err != nil {
		panic(err)
	}
	os.Rename(os.Args[1]+".tmp", os.Args[1])
	http.Serve(l, nil)
}
