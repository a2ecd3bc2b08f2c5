package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/acme/orders-api/internal/config"
	"github.com/acme/orders-api/internal/outbox"
)

// Handler processes one event. An error is retried with backoff, up to
// KAFKA_CONSUMER_MAX_ATTEMPTS calls, and then the event goes to the dead-letter
// topic; a panic sends it there at once. Delivery is at least once: make handlers
// idempotent (the consumer drops the duplicates it remembers, not all of them).
type Handler func(ctx context.Context, e outbox.Event) error

// LogEvents is a Handler that logs each event: the place to start your own.
func LogEvents(logger *slog.Logger) Handler {
	return func(ctx context.Context, e outbox.Event) error {
		logger.InfoContext(ctx, "item event", "event_id", e.ID, "type", e.Type, "item_id", e.Key, "item_version", e.Version)
		return nil
	}
}

// ConsumerMetrics receives what the consumer does; the metrics package implements
// it when the service exports Prometheus metrics.
type ConsumerMetrics interface {
	// Handled counts an event the handler accepted.
	Handled()
	// Failed counts a handler call that returned an error or panicked.
	Failed()
	// DeadLettered counts an event sent to the dead-letter topic.
	DeadLettered()
	// Lag reports how many records of a partition are behind the last one handled.
	Lag(topic string, partition int32, lag int64)
}

type noMetrics struct{}

func (noMetrics) Handled()                 {}
func (noMetrics) Failed()                  {}
func (noMetrics) DeadLettered()            {}
func (noMetrics) Lag(string, int32, int64) {}

// ConsumerOption configures a Consumer.
type ConsumerOption func(*Consumer)

// WithConsumerMetrics reports the consumer's counts and lag to m.
func WithConsumerMetrics(m ConsumerMetrics) ConsumerOption {
	return func(c *Consumer) { c.metrics = m }
}

// WithClientOpts appends options to the consumer's franz-go clients (tests use them).
func WithClientOpts(opts ...kgo.Opt) ConsumerOption {
	return func(c *Consumer) { c.clientOpts = append(c.clientOpts, opts...) }
}

const (
	// stopTimeout bounds committing offsets and leaving the group on shutdown, so
	// that unreachable brokers cannot hold the process past its termination grace period.
	stopTimeout = 5 * time.Second
	// maxRetryBackoff caps the doubling pause between attempts.
	maxRetryBackoff = 30 * time.Second
	// recentEvents is how many event ids the consumer remembers to drop duplicates.
	recentEvents = 10_000
)

// Record headers a dead-lettered record carries besides the original ones.
const (
	headerDLQError     = "dlq_error"
	headerDLQAttempts  = "dlq_attempts"
	headerDLQTopic     = "dlq_topic"
	headerDLQPartition = "dlq_partition"
	headerDLQOffset    = "dlq_offset"
)

// Consumer reads the events topic as a member of a consumer group and commits
// only what it has finished with: an event handled, dropped as a duplicate or
// written to the dead-letter topic. A restart resumes after the last of those, so
// nothing is skipped, and an event that can never be handled ends up in the
// dead-letter topic instead of stopping the partition or crashing the process.
//
// A group rebalance waits while the member handles what it polled, retries
// included, so that it never commits for a partition it has lost: keep the retries
// of one event (KAFKA_CONSUMER_MAX_ATTEMPTS calls with doubling backoff from
// KAFKA_CONSUMER_RETRY_BACKOFF; 7.5s with the defaults) well below the group's
// rebalance timeout (60s by default).
type Consumer struct {
	client      *kgo.Client
	dlq         *producer
	handler     Handler
	logger      *slog.Logger
	metrics     ConsumerMetrics
	clientOpts  []kgo.Opt
	dlqTopic    string
	maxAttempts int
	backoff     time.Duration
	timeout     time.Duration
	seen        *recentIDs
	// closed is closed when the group client's Close has returned, which may
	// be after stop gave up waiting for it.
	closed chan struct{}
	// group names the consumer group in the spans.
	group string
}

// NewConsumer configures a group consumer of cfg.Topic; it does not contact the brokers.
func NewConsumer(cfg config.Kafka, logger *slog.Logger, handler Handler, opts ...ConsumerOption) (*Consumer, error) {
	c := &Consumer{
		closed:      make(chan struct{}),
		handler:     handler,
		logger:      logger,
		metrics:     noMetrics{},
		dlqTopic:    cfg.DLQTopic,
		maxAttempts: max(cfg.ConsumerMaxAttempts, 1),
		backoff:     cfg.ConsumerRetryBackoff,
		timeout:     cfg.PublishTimeout,
		seen:        newRecentIDs(recentEvents),
		// For the spans.
		group: cfg.ConsumerGroup,
	}
	for _, opt := range opts {
		opt(c)
	}
	conn, err := connOpts(cfg)
	if err != nil {
		return nil, fmt.Errorf("kafka consumer: %w", err)
	}
	dlqOpts, err := clientOpts(cfg)
	if err != nil {
		return nil, fmt.Errorf("kafka dead-letter producer: %w", err)
	}
	client, err := kgo.NewClient(append(append(conn,
		kgo.ConsumerGroup(cfg.ConsumerGroup),
		kgo.ConsumeTopics(cfg.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// Offsets are committed by Run once the records are finished with, never
		// merely because they were polled.
		kgo.DisableAutoCommit(),
		// No rebalance between a poll and its commit: the offsets committed are
		// always of partitions this member still owns.
		kgo.BlockRebalanceOnPoll(),
	), c.clientOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka consumer: %w", err)
	}
	c.dlq, err = newProducer(append(dlqOpts, c.clientOpts...))
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("kafka dead-letter producer: %w", err)
	}
	c.client = client
	return c, nil
}

// Run polls and handles records until ctx is cancelled, then commits what was
// handled, leaves the group and closes the clients. It returns when all of that is
// done (bounded by stopTimeout).
func (c *Consumer) Run(ctx context.Context) {
	defer c.stop()
	for {
		fetches := c.client.PollFetches(ctx)
		if fetches.IsClientClosed() {
			return
		}
		fetches.EachError(func(topic string, partition int32, err error) {
			if !errors.Is(err, context.Canceled) {
				c.logger.WarnContext(ctx, "kafka fetch failed", "topic", topic, "partition", partition, "error", err)
			}
		})
		var done []*kgo.Record
		interrupted := false
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			for _, r := range p.Records {
				if interrupted || !c.process(ctx, r) {
					interrupted = true
					return
				}
				done = append(done, r)
			}
			if n := len(p.Records); n > 0 {
				c.metrics.Lag(p.Topic, p.Partition, p.HighWatermark-p.Records[n-1].Offset-1)
			}
		})
		c.commit(ctx, done)
		c.client.AllowRebalance()
		if interrupted || ctx.Err() != nil {
			return
		}
	}
}

// commit commits the offsets of records, even while shutting down.
func (c *Consumer) commit(ctx context.Context, records []*kgo.Record) {
	if len(records) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
	defer cancel()
	if err := c.client.CommitRecords(ctx, records...); err != nil {
		// The records will be delivered again; handlers are idempotent.
		c.logger.WarnContext(ctx, "committing kafka offsets", "records", len(records), "error", err)
	}
}

// process finishes with one record: handles it, drops it as a duplicate or
// dead-letters it. It returns false only when ctx ended first; the record is then
// left uncommitted for the next run.
func (c *Consumer) process(ctx context.Context, r *kgo.Record) bool {
	ctx, span := c.startProcess(ctx, r)
	defer span.End()
	var e outbox.Event
	if err := json.Unmarshal(r.Value, &e); err != nil || e.ID == "" {
		if err == nil {
			err = errors.New("no event id")
		}
		err = fmt.Errorf("undecodable event: %w", err)
		fail(span, err)
		return c.deadLetter(ctx, r, err, 0)
	}
	if c.seen.contains(e.ID) {
		c.logger.DebugContext(ctx, "dropping a duplicate event", "event_id", e.ID)
		return true
	}
	attempts, err := c.handle(ctx, e)
	fail(span, err)
	switch {
	case err == nil:
		c.metrics.Handled()
	case ctx.Err() != nil:
		return false
	case !c.deadLetter(ctx, r, err, attempts):
		return false
	}
	c.seen.add(e.ID)
	return true
}

// handle calls the handler until it succeeds, panics, ctx ends or the attempts
// run out, pausing with doubling backoff between calls.
func (c *Consumer) handle(ctx context.Context, e outbox.Event) (attempts int, err error) {
	backoff := c.backoff
	for attempts = 1; ; attempts++ {
		err = c.call(ctx, e)
		if err == nil {
			return attempts, nil
		}
		c.metrics.Failed()
		var p *panicError
		if errors.As(err, &p) {
			c.logger.ErrorContext(ctx, "event handler panicked", "event_id", e.ID, "panic", fmt.Sprint(p.value), "stack", string(p.stack))
			return attempts, err
		}
		if attempts >= c.maxAttempts || ctx.Err() != nil {
			return attempts, err
		}
		c.logger.WarnContext(ctx, "event handler failed; retrying", "event_id", e.ID, "attempt", attempts, "error", err)
		if !sleep(ctx, backoff) {
			return attempts, err
		}
		backoff = min(2*backoff, maxRetryBackoff)
	}
}

// panicError is a recovered panic of a handler.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("handler panicked: %v", p.value) }

// call runs the handler, turning a panic into an error: one bad event must not
// put the service in a crash loop.
func (c *Consumer) call(ctx context.Context, e outbox.Event) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &panicError{value: v, stack: debug.Stack()}
		}
	}()
	return c.handler(ctx, e)
}

// deadLetter writes r to the dead-letter topic with the reason in its headers,
// retrying until the brokers acknowledge it or ctx ends (false).
func (c *Consumer) deadLetter(ctx context.Context, r *kgo.Record, cause error, attempts int) bool {
	rec := &kgo.Record{
		Topic: c.dlqTopic,
		Key:   r.Key,
		Value: r.Value,
		Headers: append(slices.Clone(r.Headers),
			kgo.RecordHeader{Key: headerDLQError, Value: []byte(cause.Error())},
			kgo.RecordHeader{Key: headerDLQAttempts, Value: []byte(strconv.Itoa(attempts))},
			kgo.RecordHeader{Key: headerDLQTopic, Value: []byte(r.Topic)},
			kgo.RecordHeader{Key: headerDLQPartition, Value: []byte(strconv.Itoa(int(r.Partition)))},
			kgo.RecordHeader{Key: headerDLQOffset, Value: []byte(strconv.FormatInt(r.Offset, 10))},
		),
	}
	backoff := c.backoff
	for {
		attemptCtx, cancel := context.WithTimeout(ctx, c.timeout)
		err := c.dlq.produce(attemptCtx, []*kgo.Record{rec})
		cancel()
		if err == nil {
			c.metrics.DeadLettered()
			c.logger.ErrorContext(ctx, "event sent to the dead-letter topic", "topic", c.dlqTopic,
				"partition", r.Partition, "offset", r.Offset, "attempts", attempts, "error", cause)
			return true
		}
		c.logger.WarnContext(ctx, "dead-lettering failed; retrying", "topic", c.dlqTopic, "error", err)
		if !sleep(ctx, backoff) {
			return false
		}
		backoff = min(2*backoff, maxRetryBackoff)
	}
}

// sleep waits for d or until ctx ends, reporting whether it slept the whole d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// stop leaves the group and closes the clients, within stopTimeout. Offsets were
// committed by Run: with auto-commit off, leaving commits nothing that was merely
// polled.
//
// franz-go's Close waits for a JoinGroup in flight, and the broker holds a JoinGroup
// until every member has rejoined: after a member died without leaving (kill -9),
// until its session times out (45 s by default), past any termination grace
// period. So Close gets what is left of stopTimeout; after that the client is left
// to finish on its own as the process exits.
func (c *Consumer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	if err := c.client.LeaveGroupContext(ctx); err != nil {
		c.logger.Warn("leaving the kafka consumer group", "error", err)
	}
	go func() {
		defer close(c.closed)
		c.client.Close()
	}()
	deadline, _ := ctx.Deadline()
	select {
	case <-c.closed:
	case <-time.After(max(time.Until(deadline), 100*time.Millisecond)):
		c.logger.Warn("kafka consumer: the client did not close in time; leaving it behind", "timeout", stopTimeout)
	}
	c.dlq.close()
}
