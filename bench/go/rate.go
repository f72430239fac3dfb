// The Go side of bench/bench_rate.cpp: golang.org/x/time/rate (Debian's
// golang-golang-x-time-dev, wired in by go.mod's replace line, so the build needs no
// network) under the same workloads, with the same counts and checks.
package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// The counts of bench/bench_rate.cpp; -smoke divides each by 1000.
var (
	rateAllowCalls = 2_000_000
	ratePairCalls  = 1_000_000
)

const (
	rateNeverReached = rate.Limit(1e9) // per second: a call takes longer than 1 ns
	rateBurst        = 1_000_000
)

func rateChecked(good, calls int, elapsed time.Duration) (string, float64, time.Duration, error) {
	if good != calls {
		return "", 0, elapsed, fmt.Errorf("only %d of %d calls succeeded", good, calls)
	}
	return "calls_per_second", float64(calls) / elapsed.Seconds(), elapsed, nil
}

// Allow on a limit never reached, the calls split over `goroutines`.
func rateAllow(goroutines int) workload {
	return func() (string, float64, time.Duration, error) {
		lim := rate.NewLimiter(rateNeverReached, rateBurst)
		per := rateAllowCalls / goroutines
		var ready, done sync.WaitGroup
		start := make(chan struct{})
		goods := make([]int, goroutines)
		ready.Add(goroutines)
		done.Add(goroutines)
		for g := 0; g < goroutines; g++ {
			go func(g int) {
				defer done.Done()
				ready.Done()
				<-start
				for k := 0; k < per; k++ {
					if lim.Allow() {
						goods[g]++
					}
				}
			}(g)
		}
		ready.Wait()
		t0 := time.Now()
		close(start)
		done.Wait()
		elapsed := time.Since(t0)
		good := 0
		for _, n := range goods {
			good += n
		}
		return rateChecked(good, per*goroutines, elapsed)
	}
}

// ReserveN(t, 1) + CancelAt(t) at one t, so that every cancel gives its token back.
func rateReserveCancel() (string, float64, time.Duration, error) {
	lim := rate.NewLimiter(rateNeverReached, rateBurst)
	good := 0
	t0 := time.Now()
	for k := 0; k < ratePairCalls; k++ {
		t := time.Now()
		r := lim.ReserveN(t, 1)
		if r.OK() && r.DelayFrom(t) == 0 {
			good++
		}
		r.CancelAt(t)
	}
	return rateChecked(good, ratePairCalls, time.Since(t0))
}

// Wait on a limit never reached, with a context that has no deadline.
func rateWait() (string, float64, time.Duration, error) {
	lim := rate.NewLimiter(rateNeverReached, rateBurst)
	ctx := context.Background()
	good := 0
	t0 := time.Now()
	for k := 0; k < ratePairCalls; k++ {
		if lim.Wait(ctx) == nil {
			good++
		}
	}
	return rateChecked(good, ratePairCalls, time.Since(t0))
}
