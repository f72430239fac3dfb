// The Go side of bench/bench_semaphore.cpp: golang.org/x/sync/semaphore.Weighted on the
// same workloads and counts (Debian golang-golang-x-sync-dev, required through go.mod's
// replace, so nothing is fetched).
package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
)

// The counts of the C++ workloads; -smoke divides each by 1000.
var (
	semUncontendedPairs = 10_000_000
	semContendedPairs   = 1_000_000
)

// One goroutine, acquire(1) + release(1) pairs on a semaphore of 1.
func semUncontended() (string, float64, time.Duration, error) {
	s := semaphore.NewWeighted(1)
	ctx := context.Background()
	start := time.Now()
	for i := 0; i < semUncontendedPairs; i++ {
		if err := s.Acquire(ctx, 1); err != nil {
			return "", 0, 0, err
		}
		s.Release(1)
	}
	elapsed := time.Since(start)
	if !s.TryAcquire(1) {
		return "", 0, 0, errors.New("the token is not free at the end")
	}
	return "ns_per_pair", float64(elapsed.Nanoseconds()) / float64(semUncontendedPairs), elapsed, nil
}

// Two goroutines, the semaphore of 1 as the lock around a plain counter.
func semContended() (string, float64, time.Duration, error) {
	s := semaphore.NewWeighted(1)
	ctx := context.Background()
	guarded := 0
	var wg sync.WaitGroup
	start := time.Now()
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < semContendedPairs/2; i++ {
				if s.Acquire(ctx, 1) != nil {
					return
				}
				guarded++
				s.Release(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if guarded != semContendedPairs {
		return "", 0, 0, errors.New("guarded count differs from the pairs asked for")
	}
	return "ns_per_pair", float64(elapsed.Nanoseconds()) / float64(semContendedPairs), elapsed, nil
}
