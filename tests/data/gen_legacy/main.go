// gen_legacy writes Go's legacy text profiles (runtime/pprof's debug=1
// forms) into a directory, for tests/e2e/pprof_legacy_text.sh: heap,
// allocs, goroutine, threadcreate, block and mutex, after work that puts
// known stacks in each. Standard library only.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"
)

var keep [][]byte

//go:noinline
func allocBig(n int) {
	for i := 0; i < n; i++ {
		keep = append(keep, make([]byte, 64<<10))
	}
}

//go:noinline
func allocSmall(n int) {
	for i := 0; i < n; i++ {
		b := make([]byte, 512)
		if i%4 == 0 {
			keep = append(keep, b)
		}
	}
}

var strs []string

// concat allocates through the runtime's string helpers, whose frames
// pprof's drop_frames prune from the report.
//
//go:noinline
func concat(n int) {
	base := strings.Repeat("x", 1000)
	for i := 0; i < n; i++ {
		strs = append(strs, base+strconv.Itoa(i))
	}
}

//go:noinline
func contend(mu *sync.Mutex, wg *sync.WaitGroup) {
	defer wg.Done()
	for i := 0; i < 200; i++ {
		mu.Lock()
		time.Sleep(20 * time.Microsecond)
		mu.Unlock()
	}
}

//go:noinline
func waitChan(c chan int) {
	<-c
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen_legacy DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	runtime.MemProfileRate = 4096
	runtime.SetBlockProfileRate(1)
	runtime.SetMutexProfileFraction(1)
	allocBig(64)
	allocSmall(20000)
	concat(2000)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go contend(&mu, &wg)
	}
	wg.Wait()
	c := make(chan int)
	go waitChan(c)
	time.Sleep(10 * time.Millisecond)
	c <- 1
	blocked := make(chan int)
	for i := 0; i < 3; i++ {
		go waitChan(blocked)
	}
	time.Sleep(10 * time.Millisecond)
	runtime.GC()
	for _, name := range []string{"heap", "allocs", "goroutine", "threadcreate", "block", "mutex"} {
		f, err := os.Create(filepath.Join(dir, name+".txt"))
		if err == nil {
			err = pprof.Lookup(name).WriteTo(f, 1)
		}
		if err == nil {
			err = f.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "gen_legacy:", err)
			os.Exit(1)
		}
	}
	fmt.Println(len(keep), len(strs))
}
