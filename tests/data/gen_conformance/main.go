// Writes the Go runtime profiles of every kind that the conformance matrix
// (tests/e2e/pprof_conformance.sh) runs through `cprof pprof` and
// `go tool pprof`:
//
//	go-cpu.pb.gz           CPU profile: a call tree 4 deep, recursion, a
//	                       helper inlined at some call sites, pprof labels
//	                       (worker=a|b, phase=hash|sort) on the samples
//	go-heap.pb.gz          heap profile (4 sample types, "bytes" num labels)
//	go-allocs.pb.gz        the same data as "allocs" (default alloc_space)
//	go-block.pb.gz         block profile: channels, WaitGroup, select
//	go-mutex.pb.gz         mutex profile: two contended mutexes
//	go-goroutine.pb.gz     goroutine profile: 12 parked goroutines, labelled
//	go-threadcreate.pb.gz  threadcreate profile
//
// Regenerate with:
//
//	cd tests/data/gen_conformance && GO111MODULE=off go run main.go ../conformance
package main

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"sync"
	"time"
)

var sink uint64
var keep [][]byte

//go:noinline
func hashLoop(n int) {
	buf := make([]byte, 256)
	for i := 0; i < n; i++ {
		s := sha256.Sum256(buf)
		buf[0] = s[0]
		sink += uint64(s[1])
	}
}

// mix is inlined into its direct callers.
func mix(x uint64) uint64 {
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	return x
}

//go:noinline
func sortLoop(n int) {
	a := make([]int, 2000)
	for i := 0; i < n; i++ {
		x := uint64(i + 1)
		for j := range a {
			x = mix(x)
			a[j] = int(x)
		}
		sort.Ints(a)
	}
}

//go:noinline
func recurse(depth, n int) {
	if depth == 0 {
		hashLoop(n)
		return
	}
	recurse(depth-1, n)
}

//go:noinline
func mixLoop(n int) {
	x := uint64(7)
	for i := 0; i < n*200; i++ {
		x = mix(x)
	}
	sink += x
}

func worker(name string, d time.Duration) {
	pprof.Do(context.Background(), pprof.Labels("worker", name), func(ctx context.Context) {
		for end := time.Now().Add(d); time.Now().Before(end); {
			pprof.Do(ctx, pprof.Labels("phase", "hash"), func(context.Context) {
				recurse(3, 200)
				hashLoop(100)
			})
			pprof.Do(ctx, pprof.Labels("phase", "sort"), func(context.Context) {
				sortLoop(2)
			})
			mixLoop(1000)
		}
	})
}

//go:noinline
func allocSmall() {
	for i := 0; i < 3000; i++ {
		keep = append(keep, make([]byte, 64+i%64))
	}
}

//go:noinline
func allocLarge() {
	for i := 0; i < 20; i++ {
		keep = append(keep, make([]byte, 1<<16))
	}
}

//go:noinline
func allocTemp() {
	for i := 0; i < 2000; i++ {
		b := make([]byte, 512)
		sink += uint64(b[0])
	}
}

func blockChan(wg *sync.WaitGroup) {
	c := make(chan int)
	go func() {
		for i := 0; i < 20; i++ {
			time.Sleep(time.Millisecond)
			c <- i
		}
		close(c)
	}()
	for range c {
	}
	wg.Done()
}

func blockSelect(wg *sync.WaitGroup) {
	t := time.NewTimer(15 * time.Millisecond)
	c := make(chan int)
	select {
	case <-t.C:
	case <-c:
	}
	wg.Done()
}

var muA, muB sync.Mutex

//go:noinline
func lockA(n int) {
	for i := 0; i < n; i++ {
		muA.Lock()
		hashLoop(20)
		muA.Unlock()
	}
}

//go:noinline
func lockB(n int) {
	for i := 0; i < n; i++ {
		muB.Lock()
		hashLoop(5)
		muB.Unlock()
	}
}

func parked(c chan int) { <-c }

func write(dir, name string, f func(*os.File) error) {
	out, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		panic(err)
	}
	if err := f(out); err != nil {
		panic(err)
	}
	if err := out.Close(); err != nil {
		panic(err)
	}
}

func lookup(kind string) func(*os.File) error {
	return func(f *os.File) error { return pprof.Lookup(kind).WriteTo(f, 0) }
}

func main() {
	dir := "."
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	runtime.MemProfileRate = 2048
	runtime.SetBlockProfileRate(1)
	runtime.SetMutexProfileFraction(1)

	write(dir, "go-cpu.pb.gz", func(f *os.File) error {
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		var wg sync.WaitGroup
		for _, n := range []string{"a", "b"} {
			wg.Add(1)
			go func(n string) { worker(n, 400*time.Millisecond); wg.Done() }(n)
		}
		wg.Wait()
		pprof.StopCPUProfile()
		return nil
	})

	allocSmall()
	allocLarge()
	allocTemp()
	runtime.GC()
	write(dir, "go-heap.pb.gz", lookup("heap"))
	write(dir, "go-allocs.pb.gz", lookup("allocs"))

	var wg sync.WaitGroup
	wg.Add(2)
	go blockChan(&wg)
	go blockSelect(&wg)
	wg.Wait()
	write(dir, "go-block.pb.gz", lookup("block"))

	var mwg sync.WaitGroup
	for i := 0; i < 4; i++ {
		mwg.Add(2)
		go func() { lockA(200); mwg.Done() }()
		go func() { lockB(300); mwg.Done() }()
	}
	mwg.Wait()
	write(dir, "go-mutex.pb.gz", lookup("mutex"))

	c := make(chan int)
	for i := 0; i < 12; i++ {
		kind := "idle"
		if i%3 == 0 {
			kind = "busy"
		}
		go pprof.Do(context.Background(), pprof.Labels("pool", kind), func(context.Context) { parked(c) })
	}
	time.Sleep(20 * time.Millisecond)
	write(dir, "go-goroutine.pb.gz", lookup("goroutine"))
	write(dir, "go-threadcreate.pb.gz", lookup("threadcreate"))
	close(c)
}
