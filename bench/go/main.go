// The Go side of bench/bench_channel.cpp, bench_pipeline.cpp, bench_semaphore.cpp,
// bench_rate.cpp and bench_coro.cpp's coro_suspended_memory: the same workloads, written
// with Go's own channels, select and context, golang.org/x/sync/semaphore (semaphore.go),
// golang.org/x/time/rate (rate.go) and goroutines parked in a receive (memory.go), printed as Google Benchmark JSON so that
// bench/report.py puts Go and lf in one table. bench/run.sh builds and runs it when `go`
// is on PATH.
//
//	go run . -reps 5 -out go_channel.json
//	go run . -reps 1 -smoke -out go_channel.json   (1/1000 of every count: a check, not a measurement)
//	go run . -reps 3 -filter suspended -out go_mem.json   (only the workloads whose name matches)
//
// Every run checks what it moved (count and checksum) and reports an error instead of a
// figure when a check fails, as the C++ workloads do.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"regexp"
	"runtime"
	"sort"
	"sync"
	"time"
)

const (
	capacity      = 1024 // the C++ benches' queue_capacity
	cancelWaiters = 4
)

// The counts of the C++ workloads; -smoke divides each by 1000 (every quotient still
// splits evenly over its producers).
var (
	items        = 2_000_000
	handoffs     = uint64(200_000)
	roundTrips   = uint64(100_000)
	selectItems  = 1_000_000
	cancelRounds = 2_000
	// bench/bench_pipeline.cpp's counts.
	pipelineEmptyItems = 400_000
	pipelineWorkItems  = 100_000
	// bench/bench_coro.cpp's coro_spawn_join.
	spawnTasks = 1_000_000
)

type result struct {
	Name        string  `json:"name"`
	RunName     string  `json:"run_name"`
	RunType     string  `json:"run_type"`
	Repetitions int     `json:"repetitions"`
	Iterations  int     `json:"iterations"`
	RealTime    float64 `json:"real_time"`
	TimeUnit    string  `json:"time_unit"`
	Error       bool    `json:"error_occurred,omitempty"`
	Message     string  `json:"error_message,omitempty"`
	Counters    map[string]float64
}

// MarshalJSON flattens the counters beside the fixed fields, as Google Benchmark does.
func (r result) MarshalJSON() ([]byte, error) {
	m := map[string]interface{}{
		"name": r.Name, "run_name": r.RunName, "run_type": r.RunType, "repetitions": r.Repetitions,
		"iterations": r.Iterations, "real_time": r.RealTime, "time_unit": r.TimeUnit,
	}
	if r.Error {
		m["error_occurred"] = true
		m["error_message"] = r.Message
	}
	for k, v := range r.Counters {
		m[k] = v
	}
	return json.Marshal(m)
}

// A workload runs once and returns its counter name, value, elapsed time, or an error.
type workload func() (string, float64, time.Duration, error)

// n items from p producers to c consumers through one channel of capacity `cap`.
func throughput(p, c, cap int) workload {
	return func() (string, float64, time.Duration, error) {
		ch := make(chan uint64, cap)
		per := items / p
		var wg sync.WaitGroup
		sums := make([]uint64, c)
		counts := make([]uint64, c)
		start := time.Now()
		for i := 0; i < p; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				base := uint64(i*per) + 1
				for v := base; v < base+uint64(per); v++ {
					ch <- v
				}
			}(i)
		}
		var rg sync.WaitGroup
		for j := 0; j < c; j++ {
			rg.Add(1)
			go func(j int) {
				defer rg.Done()
				for v := range ch {
					sums[j] += v
					counts[j]++
				}
			}(j)
		}
		wg.Wait()
		close(ch)
		rg.Wait()
		elapsed := time.Since(start)
		var sum, count uint64
		for j := range sums {
			sum += sums[j]
			count += counts[j]
		}
		n := uint64(per * p)
		if count != n || sum != n*(n+1)/2 {
			return "", 0, elapsed, fmt.Errorf("moved %d items (sum %d), expected %d", count, sum, n)
		}
		return "items_per_second", float64(n) / elapsed.Seconds(), elapsed, nil
	}
}

// Two goroutines pass values through two unbuffered channels: one round trip is two
// rendezvous.
func pingpong() (string, float64, time.Duration, error) {
	there, back := make(chan uint64), make(chan uint64)
	go func() {
		for v := range there {
			back <- v
		}
		close(back)
	}()
	start := time.Now()
	for i := uint64(1); i <= roundTrips; i++ {
		there <- i
		if v := <-back; v != i {
			return "", 0, 0, fmt.Errorf("echo %d for %d", v, i)
		}
	}
	elapsed := time.Since(start)
	close(there)
	return "ns_per_round_trip", float64(elapsed.Nanoseconds()) / float64(roundTrips), elapsed, nil
}

// bench_coro's coro_spawn_join: one goroutine starts spawnTasks goroutines, each storing 1
// into its own byte, and waits for them all; then every byte is checked. Go has no join
// handle, so the join is a sync.WaitGroup (lf keeps a handle per coroutine and awaits
// each: the same promise, that all have finished, with a record per task).
func spawnJoin() (string, float64, time.Duration, error) {
	bytes := make([]byte, spawnTasks)
	var wg sync.WaitGroup
	start := time.Now()
	done := make(chan struct{})
	go func() {
		wg.Add(spawnTasks)
		for i := range bytes {
			b := &bytes[i]
			go func() {
				*b = 1
				wg.Done()
			}()
		}
		wg.Wait()
		close(done)
	}()
	<-done
	elapsed := time.Since(start)
	for i, b := range bytes {
		if b != 1 {
			return "", 0, elapsed, fmt.Errorf("task %d did not run", i)
		}
	}
	return "tasks_per_second", float64(spawnTasks) / elapsed.Seconds(), elapsed, nil
}

// One sender, one receiver, unbuffered: the cost of one rendezvous.
func handoff() (string, float64, time.Duration, error) {
	ch := make(chan uint64)
	done := make(chan uint64)
	go func() {
		var sum uint64
		for v := range ch {
			sum += v
		}
		done <- sum
	}()
	start := time.Now()
	for v := uint64(1); v <= handoffs; v++ {
		ch <- v
	}
	close(ch)
	sum := <-done
	elapsed := time.Since(start)
	if sum != handoffs*(handoffs+1)/2 {
		return "", 0, elapsed, fmt.Errorf("checksum %d", sum)
	}
	return "items_per_second", float64(handoffs) / elapsed.Seconds(), elapsed, nil
}

// Four producers each on its own buffered channel; one consumer selects over the four.
func select4() (string, float64, time.Duration, error) {
	var chans [4]chan uint64
	for i := range chans {
		chans[i] = make(chan uint64, capacity)
	}
	per := selectItems / 4
	for i := range chans {
		go func(i int) {
			base := uint64(i*per) + 1
			for v := base; v < base+uint64(per); v++ {
				chans[i] <- v
			}
		}(i)
	}
	start := time.Now()
	var sum uint64
	for n := 0; n < selectItems; n++ {
		select {
		case v := <-chans[0]:
			sum += v
		case v := <-chans[1]:
			sum += v
		case v := <-chans[2]:
			sum += v
		case v := <-chans[3]:
			sum += v
		}
	}
	elapsed := time.Since(start)
	n := uint64(selectItems)
	if sum != n*(n+1)/2 {
		return "", 0, elapsed, fmt.Errorf("checksum %d", sum)
	}
	return "items_per_second", float64(n) / elapsed.Seconds(), elapsed, nil
}

// Waiters block on ctx.Done(); the time from cancel() until the last of them is awake.
func cancelLatency() (string, float64, time.Duration, error) {
	var total time.Duration
	for r := 0; r < cancelRounds; r++ {
		ctx, cancel := context.WithCancel(context.Background())
		var ready, woke sync.WaitGroup
		ready.Add(cancelWaiters)
		woke.Add(cancelWaiters)
		for i := 0; i < cancelWaiters; i++ {
			go func() {
				ready.Done()
				<-ctx.Done()
				woke.Done()
			}()
		}
		ready.Wait()
		start := time.Now()
		cancel()
		woke.Wait()
		total += time.Since(start)
		if ctx.Err() != context.Canceled {
			return "", 0, total, fmt.Errorf("err %v", ctx.Err())
		}
	}
	return "ns_per_wakeup", float64(total.Nanoseconds()) / float64(cancelRounds), total, nil
}

// The calibrated arithmetic of bench_pipeline.cpp's 1 us stage: dependent multiply-adds.
var spinSink uint64

func spin(v, iterations uint64) uint64 {
	x := v
	for i := uint64(0); i < iterations; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	spinSink += x
	return v + 1
}

// Spin iterations that take about 1 us here (median of 5 timings).
func iterationsPerUs() uint64 {
	const probe = 1_000_000
	var ns []float64
	for r := 0; r < 5; r++ {
		start := time.Now()
		spin(uint64(r), probe)
		ns = append(ns, float64(time.Since(start).Nanoseconds()))
	}
	sort.Float64s(ns)
	if n := uint64(1000 * probe / ns[2]); n > 0 {
		return n
	}
	return 1
}

// bench_pipeline.cpp's 3 stages as the Go blog writes them: a generator goroutine, a
// fan-out of GOMAXPROCS workers over one channel, and an in-order sink that puts the
// results back in order (a map of the early ones). Channels hold 4 x GOMAXPROCS items,
// the C++ runs' max_live_items. The sink checks order, count and sum.
func pipeline(n *int, work bool) workload {
	return func() (string, float64, time.Duration, error) {
		var iters uint64
		if work {
			iters = iterationsPerUs()
		}
		workers := runtime.GOMAXPROCS(0)
		tokens := 4 * workers
		type item struct{ seq, v uint64 }
		in := make(chan item, tokens)
		out := make(chan item, tokens)
		count := uint64(*n)
		start := time.Now()
		go func() {
			for i := uint64(1); i <= count; i++ {
				in <- item{i - 1, i}
			}
			close(in)
		}()
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for it := range in {
					if work {
						it.v = spin(it.v, iters)
					} else {
						it.v++
					}
					out <- it
				}
			}()
		}
		go func() {
			wg.Wait()
			close(out)
		}()
		early := make(map[uint64]uint64)
		next, sum := uint64(0), uint64(0)
		ordered := true
		for it := range out {
			early[it.seq] = it.v
			for {
				v, ok := early[next]
				if !ok {
					break
				}
				delete(early, next)
				ordered = ordered && v == next+2
				sum += v
				next++
			}
		}
		elapsed := time.Since(start)
		if !ordered || next != count || sum != count*(count+1)/2+count {
			return "", 0, elapsed, fmt.Errorf("sink saw %d of %d items (sum %d, in order %v)", next, count, sum, ordered)
		}
		return "items_per_second", float64(count) / elapsed.Seconds(), elapsed, nil
	}
}

func main() {
	reps := flag.Int("reps", 5, "repetitions of every workload")
	out := flag.String("out", "go_channel.json", "where to write the JSON")
	smoke := flag.Bool("smoke", false, "1/1000 of every count: every workload runs and checks, its figures mean nothing")
	filter := flag.String("filter", "", "run only the workloads whose name matches this regular expression")
	park := flag.Int("park", 0, "internal: coro_suspended_memory's child (memory.go)")
	flag.Parse()
	if *park > 0 {
		v, err := parkGoroutines(*park)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(v)
		return
	}
	match, err := regexp.Compile(*filter)
	if err != nil {
		fmt.Fprintln(os.Stderr, "-filter:", err)
		os.Exit(2)
	}
	size := "full"
	if *smoke {
		items, handoffs, roundTrips, selectItems, cancelRounds = items/1000, handoffs/1000, roundTrips/1000, selectItems/1000, cancelRounds/1000
		pipelineEmptyItems, pipelineWorkItems = pipelineEmptyItems/1000, pipelineWorkItems/1000
		semUncontendedPairs, semContendedPairs = semUncontendedPairs/1000, semContendedPairs/1000
		rateAllowCalls, ratePairCalls = rateAllowCalls/1000, ratePairCalls/1000
		suspendedGoroutines /= 1000
		spawnTasks /= 1000
		size = "smoke (-smoke): 1/1000 of every count"
	}

	// Names are <workload>/<implementation>, as in the C++ binaries.
	workloads := []struct {
		name string
		run  workload
	}{
		{"pipeline_empty/go::chan", pipeline(&pipelineEmptyItems, false)},
		{"pipeline_1us/go::chan", pipeline(&pipelineWorkItems, true)},
		{"semaphore_uncontended/go::semaphore.Weighted", semUncontended},
		{"semaphore_contended_2t/go::semaphore.Weighted", semContended},
		{"chan_buffered_1p1c/go::chan", throughput(1, 1, capacity)},
		{"chan_buffered_2p2c/go::chan", throughput(2, 2, capacity)},
		{"chan_unbuffered_handoff/go::chan", handoff},
		{"chan_pingpong/go::chan", pingpong},
		{"chan_select4/go::chan", select4},
		{"ctx_cancel_wakeup_4/go::context", cancelLatency},
		{"rate_allow_1t/go::rate.Limiter", rateAllow(1)},
		{"rate_allow_2t/go::rate.Limiter", rateAllow(2)},
		{"rate_reserve_cancel_1t/go::rate.Limiter", rateReserveCancel},
		{"rate_wait_1t/go::rate.Limiter", rateWait},
		{"coro_suspended_memory/go::goroutine", suspendedMemory},
		// A goroutine is Go's coroutine: the same programs as chan_pingpong, chan_unbuffered_handoff
		// and chan_select4, under the names of bench_coro's workloads, so that lf's coroutine
		// and thread forms there are compared with Go's goroutines in one table.
		{"coro_chan_pingpong/go::goroutine", pingpong},
		{"coro_chan_handoff/go::goroutine", handoff},
		{"coro_chan_select4/go::goroutine", select4},
		{"coro_spawn_join/go::goroutine", spawnJoin},
	}
	// Repetitions interleaved at random, as bench/run.sh asks of Google Benchmark.
	var order []int
	for r := 0; r < *reps; r++ {
		for i := range workloads {
			if match.MatchString(workloads[i].name) {
				order = append(order, i)
			}
		}
	}
	rand.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })

	var results []result
	for _, i := range order {
		w := workloads[i]
		name := w.name
		counter, value, elapsed, err := w.run()
		r := result{Name: name, RunName: name, RunType: "iteration", Repetitions: *reps, Iterations: 1,
			RealTime: float64(elapsed.Nanoseconds()) / 1e6, TimeUnit: "ms", Counters: map[string]float64{}}
		if err != nil {
			r.Error, r.Message = true, err.Error()
		} else {
			r.Counters[counter] = value
		}
		results = append(results, r)
		fmt.Fprintf(os.Stderr, "%-40s %s %.4g\n", name, counter, value)
	}
	doc := map[string]interface{}{
		"context": map[string]interface{}{
			"go version":    runtime.Version(),
			"GOMAXPROCS":    runtime.GOMAXPROCS(0),
			"workload size": size,
		},
		"benchmarks": results,
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
