// Writes the Go runtime profiles the `cprof pprof -top` end-to-end test
// compares against `go tool pprof` (tests/e2e/pprof_top.sh):
//
//	go-cpu-many.pb.gz  CPU profile over ~40 functions of very different
//	                   weights, so nodefraction drops some; a helper that is
//	                   inlined at some call sites and not at others
//	                   ("(partial-inline)"), generics and closures
//	go-heap-big.pb.gz  heap profile with MB-sized and tiny allocation sites
//	go-block.pb.gz     block profile (contentions/count, delay/nanoseconds)
//	go-mutex.pb.gz     mutex profile
//
// Regenerate with: cd tests/data/gen_top && GO111MODULE=off go run main.go ..
package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"
)

var sink uint64
var buf = make([]byte, 4096)

//go:noinline
func burn(n int) {
	for i := 0; i < n; i++ {
		s := sha256.Sum256(buf[:64])
		sink += uint64(s[0])
	}
}

// small is inlined where called directly, not when called through a func value.
func small(n int) uint64 {
	var x uint64
	for i := 0; i < n; i++ {
		x = x*31 + uint64(i)
	}
	return x
}

type number interface{ ~int | ~int64 }

//go:noinline
func sum[T number](n T) T {
	var s T
	for i := T(0); i < n; i++ {
		s += i ^ (s >> 3)
	}
	return s
}

//go:noinline
func work00() { burn(4000) }

//go:noinline
func work01() { burn(2000) }

//go:noinline
func work02() { burn(1000) }

//go:noinline
func work03() { burn(500) }

//go:noinline
func work04() { burn(250) }

//go:noinline
func work05() { burn(120) }

//go:noinline
func work06() { burn(60) }

//go:noinline
func work07() { burn(30) }

//go:noinline
func work08() { burn(15) }

//go:noinline
func work09() { burn(8) }

//go:noinline
func inl() { sink += small(200000) }

//go:noinline
func viaValue(f func(int) uint64) { sink += f(200000) }

//go:noinline
func generic() { sink += uint64(sum[int](300000)) + uint64(sum[int64](100000)) }

func main() {
	dir := "."
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	write := func(name string, fn func(f *os.File) error) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			panic(err)
		}
		if err := fn(f); err != nil {
			panic(err)
		}
		f.Close()
	}

	runtime.SetBlockProfileRate(1)
	runtime.SetMutexProfileFraction(1)

	write("go-cpu-many.pb.gz", func(f *os.File) error {
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		works := []func(){work00, work01, work02, work03, work04, work05, work06,
			work07, work08, work09}
		deadline := time.Now().Add(3000 * time.Millisecond)
		for time.Now().Before(deadline) {
			for _, w := range works {
				w()
			}
			inl()
			viaValue(small)
			generic()
			func() { burn(40) }()
		}
		pprof.StopCPUProfile()
		return nil
	})

	var keep [][]byte
	for i := 0; i < 64; i++ {
		keep = append(keep, make([]byte, 1<<20))
	}
	for i := 0; i < 20000; i++ {
		keep = append(keep, make([]byte, 24))
	}
	keep = append(keep, []byte(fmt.Sprint(len(keep))))
	runtime.GC()
	write("go-heap-big.pb.gz", func(f *os.File) error { return pprof.Lookup("heap").WriteTo(f, 0) })
	runtime.KeepAlive(keep)

	var mu sync.Mutex
	var wg sync.WaitGroup
	ch := make(chan int)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				mu.Lock()
				burn(20)
				mu.Unlock()
			}
		}()
	}
	go func() {
		for i := 0; i < 50; i++ {
			time.Sleep(time.Millisecond)
			ch <- i
		}
		close(ch)
	}()
	for range ch {
	}
	wg.Wait()
	write("go-block.pb.gz", func(f *os.File) error { return pprof.Lookup("block").WriteTo(f, 0) })
	write("go-mutex.pb.gz", func(f *os.File) error { return pprof.Lookup("mutex").WriteTo(f, 0) })
}
