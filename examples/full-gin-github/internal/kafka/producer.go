package kafka

import (
	"context"
	"errors"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// errClosed is returned by a producer used after Close.
var errClosed = errors.New("kafka producer closed")

// producer produces records and returns by its context's deadline whatever the
// brokers do.
//
// franz-go alone does not promise that: an idempotent producer never gives up on a
// record it has sent (it cannot know whether the broker wrote it), and between
// retries a partition backs off for up to seconds without looking at contexts. So
// the producer disables idempotent writes (the outbox delivers at least once and
// consumers deduplicate by event id, so the broker's deduplication is not needed),
// waits for the records' promises only until the deadline, and replaces its client
// after a failed attempt: whatever the old client was still holding (records in
// flight, a partition in backoff, a connection to a hung broker) is closed in the
// background and cannot slow down the next attempt.
type producer struct {
	newClient func() (*kgo.Client, error)

	mu      sync.Mutex
	client  *kgo.Client
	closed  bool
	closing sync.WaitGroup // clients being closed in the background
}

func newProducer(opts []kgo.Opt) (*producer, error) {
	opts = append([]kgo.Opt{
		kgo.DisableIdempotentWrite(),
		// Send waits for its records: lingering would only add latency.
		kgo.ProducerLinger(0),
	}, opts...)
	p := &producer{newClient: func() (*kgo.Client, error) { return kgo.NewClient(opts...) }}
	client, err := p.newClient()
	if err != nil {
		return nil, err
	}
	p.client = client
	return p, nil
}

// current is the client to use, or nil after Close.
func (p *producer) current() *kgo.Client {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.client
}

// produce sends records and waits until all of them are acknowledged or one fails,
// at most until ctx is done. Records with the same key go to the same partition in
// the order given: with idempotence off franz-go keeps one produce request in flight
// per broker, and a failed record fails every record behind it in its partition.
func (p *producer) produce(ctx context.Context, records []*kgo.Record) error {
	client := p.current()
	if client == nil {
		return errClosed
	}
	// Buffered for every promise, so that promises of an abandoned attempt never block.
	results := make(chan error, len(records))
	promise := func(_ *kgo.Record, err error) { results <- err }
	for _, r := range records {
		client.Produce(ctx, r, promise)
	}
	var err error
	for range records {
		select {
		case err = <-results:
		case <-ctx.Done():
			err = ctx.Err()
		}
		if err != nil {
			p.replace(client)
			return err
		}
	}
	return nil
}

// replace swaps failed for a new client (unless another attempt already did) and
// closes failed in the background, failing whatever it still buffers.
func (p *producer) replace(failed *kgo.Client) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.client != failed {
		return
	}
	next, err := p.newClient()
	if err != nil {
		// The options were accepted once; they cannot fail now. Keep the old client.
		return
	}
	p.client = next
	p.closing.Go(failed.Close)
}

// ping asks a broker for metadata.
func (p *producer) ping(ctx context.Context) error {
	client := p.current()
	if client == nil {
		return errClosed
	}
	return client.Ping(ctx)
}

// close closes the client and waits for the clients being closed in the background.
func (p *producer) close() {
	p.mu.Lock()
	client := p.client
	p.client, p.closed = nil, true
	p.mu.Unlock()
	if client != nil {
		client.Close()
	}
	p.closing.Wait()
}
