// bench/bench_coro.cpp's coro_suspended_memory for Go: what a goroutine blocked in a
// receive costs (issue 12 quotes "a few hundred bytes"), beside lf's suspended coroutine.
//
// suspendedGoroutines goroutines each block in <-ch on one shared unbuffered channel
// (the lf row's one lf::channel<int>); once all have, the run reads the runtime's memory,
// then closes the channel and checks that every one woke with !ok and returned. The
// figure, bytes_per_coroutine (one counter name for lf's, the threads' and this row),
// is (StackInuse + HeapInuse after - before) / N, each read after runtime.GC(): the
// goroutines' stacks are in StackInuse, their g records and closures in HeapInuse.
//
// Each repetition runs in a fresh child process (this binary with -park N): a runtime
// keeps a finished goroutine's g record on its free list for the next `go`, so a second
// measurement in one process would find the g records already counted in "before". lf's
// figure does not have that problem: it counts malloc's bytes in use, not what it caches.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var suspendedGoroutines = 100_000

// The runtime's stack and heap spans in use, after a full collection.
func inuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.StackInuse + m.HeapInuse
}

// The child's side (-park n): parks n goroutines, measures, releases them, and prints
// bytes per goroutine on stdout.
func parkGoroutines(n int) (float64, error) {
	ch := make(chan int)
	var parked, wokeClosed atomic.Int64
	var done sync.WaitGroup
	done.Add(n)
	before := inuse()
	for i := 0; i < n; i++ {
		go func() {
			defer done.Done()
			parked.Add(1)
			if _, ok := <-ch; !ok {
				wokeClosed.Add(1)
			}
		}()
	}
	// The count comes just before the receive: 20 ms lets the last ones (at most one per
	// P) reach the channel's queue, as in the C++ row.
	for parked.Load() < int64(n) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	after := inuse()
	close(ch)
	done.Wait()
	if got := wokeClosed.Load(); got != int64(n) {
		return 0, fmt.Errorf("%d of %d parked receivers woke with !ok", got, n)
	}
	per := (float64(after) - float64(before)) / float64(n)
	if per <= 0 { // what n parked goroutines hold cannot be nothing: the reading failed
		return 0, fmt.Errorf("memory grew by %g bytes per parked goroutine", per)
	}
	return per, nil
}

func suspendedMemory() (string, float64, time.Duration, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", 0, 0, err
	}
	start := time.Now()
	out, err := exec.Command(exe, "-park", strconv.Itoa(suspendedGoroutines)).Output()
	elapsed := time.Since(start)
	if err != nil {
		return "", 0, elapsed, fmt.Errorf("child -park: %v", err)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		return "", 0, elapsed, fmt.Errorf("child -park printed %q", out)
	}
	return "bytes_per_coroutine", v, elapsed, nil
}
