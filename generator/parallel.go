package generator

import "sync"

// inParallel calls work(i) for every i in [0, n) from at most workers goroutines. newWorker runs
// once in each goroutine and returns that goroutine's work function, so a worker can keep state
// that must not be shared (Render's template set). Callers collect results by index, which keeps
// their order whatever order the work finishes in.
func inParallel(n, workers int, newWorker func() (work func(i int))) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			work := newWorker()
			for i := range next {
				work(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
