// Command gen writes the Go runtime profiles under tests/data that
// tests/unit/test_proto.c decodes as a real-world check of the decoder.
//
//	cd tests/data/gen && go run main.go ..
//
// It burns CPU for ~300 ms under the CPU profiler, then keeps some
// allocations live and writes a heap profile.
package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"
)

var sink [][]byte

func burn(d time.Duration) uint64 {
	var sum uint64
	buf := make([]byte, 4096)
	for end := time.Now().Add(d); time.Now().Before(end); {
		h := sha256.Sum256(buf)
		buf[0] = h[0]
		sum += uint64(h[1])
	}
	return sum
}

func allocate() {
	for i := 0; i < 2000; i++ {
		sink = append(sink, make([]byte, 1024+i))
	}
}

func main() {
	dir := "."
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	runtime.MemProfileRate = 4096
	cpu, err := os.Create(filepath.Join(dir, "go-cpu.pb.gz"))
	if err != nil {
		panic(err)
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		panic(err)
	}
	fmt.Println(burn(300 * time.Millisecond))
	pprof.StopCPUProfile()
	cpu.Close()

	allocate()
	runtime.GC()
	heap, err := os.Create(filepath.Join(dir, "go-heap.pb.gz"))
	if err != nil {
		panic(err)
	}
	if err := pprof.WriteHeapProfile(heap); err != nil {
		panic(err)
	}
	heap.Close()
	fmt.Println(len(sink))
}
