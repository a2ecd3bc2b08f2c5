package cache

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/acme/orders-api/internal/items"
	"github.com/acme/orders-api/internal/tracing/tracingtest"
)

func TestCommandsOfATraceMakeClientSpans(t *testing.T) {
	c := openRedis(t)
	repo := items.NewMemoryRepository()
	seed(t, repo, "T1", "Widget")
	cached := c.Items(repo)
	ctx, tr := tracingtest.Start(t)
	for range 2 { // a miss that fills, then a hit
		if _, err := cached.Get(ctx, "T1"); err != nil {
			t.Fatal(err)
		}
	}

	gets := tr.Spans("get")
	if len(gets) != 2 {
		t.Fatalf("%d get spans, want one per read", len(gets))
	}
	opts := c.rdb.Options()
	host, port, _ := net.SplitHostPort(opts.Addr)
	for _, span := range gets {
		if span.SpanKind() != trace.SpanKindClient || span.Parent().SpanID() != tr.Root.SpanID() {
			t.Errorf("get span of kind %v, parent %v; want a client span, child of the reader's %v", span.SpanKind(), span.Parent().SpanID(), tr.Root.SpanID())
		}
		// The miss's GET answers redis.Nil: an answer, not a failure.
		if span.Status().Code == codes.Error {
			t.Errorf("get span failed: %v", span.Status())
		}
		for key, want := range map[attribute.Key]string{
			semconv.DBSystemNameKey:    "redis",
			semconv.DBOperationNameKey: "get",
			semconv.DBNamespaceKey:     strconv.Itoa(opts.DB),
			semconv.ServerAddressKey:   host,
			semconv.ServerPortKey:      port,
		} {
			if got, _ := tracingtest.Attr(span, key); got.String() != want {
				t.Errorf("%s = %q, want %q", key, got.String(), want)
			}
		}
	}
}

func TestAPipelineIsOneSpan(t *testing.T) {
	c := openRedis(t)
	ctx, tr := tracingtest.Start(t)
	if _, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Get(ctx, c.key("a"))
		p.Get(ctx, c.key("b"))
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		t.Fatal(err)
	}
	span := tr.Span(t, "BATCH get")
	if got, _ := tracingtest.Attr(span, semconv.DBOperationBatchSizeKey); got.AsInt64() != 2 {
		t.Errorf("db.operation.batch.size = %d, want 2", got.AsInt64())
	}
}

func TestAFailedCommandMarksItsSpan(t *testing.T) {
	c := openRedis(t)
	ctx, tr := tracingtest.Start(t)
	if err := c.rdb.Do(ctx, "nosuchcommand").Err(); err == nil {
		t.Fatal("an unknown command succeeded")
	}
	if span := tr.Span(t, "nosuchcommand"); span.Status().Code != codes.Error {
		t.Errorf("status = %v, want an error", span.Status())
	}
}

func TestCommandsOutsideATraceMakeNoSpans(t *testing.T) {
	c := openRedis(t)
	tracingtest.Start(t)
	if err := c.rdb.Echo(context.Background(), "untraced").Err(); err != nil {
		t.Fatal(err)
	}
	for _, s := range tracingtest.Ended() {
		if s.Name() == "echo" {
			t.Fatal("a command outside any trace made a span")
		}
	}
}

// The requests the sampler leaves out are most requests: their commands cost no span.
func TestCommandsOfAnUnsampledTraceMakeNoSpans(t *testing.T) {
	c := openRedis(t)
	ctx, tr := tracingtest.Unsampled(t)
	if err := c.rdb.Echo(ctx, "unsampled").Err(); err != nil {
		t.Fatal(err)
	}
	if spans := tr.Spans("echo"); len(spans) != 0 {
		t.Fatalf("a command of a trace not sampled made %d spans", len(spans))
	}
}
