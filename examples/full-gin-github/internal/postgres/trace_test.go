package postgres

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/acme/orders-api/internal/items"
	"github.com/acme/orders-api/internal/outbox"
	"github.com/acme/orders-api/internal/tracing/tracingtest"
)

func TestQueriesOfATraceMakeClientSpans(t *testing.T) {
	db := migrated(t)
	ctx, tr := tracingtest.Start(t)
	repo := db.Items()
	if _, _, err := repo.Create(ctx, newItem("A"), items.Idempotency{}); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Get(ctx, "A"); err != nil {
		t.Fatal(err)
	}

	cc := db.pool.Config().ConnConfig
	span := tr.Span(t, "SELECT items")
	if span.SpanKind() != trace.SpanKindClient {
		t.Errorf("kind = %v, want client", span.SpanKind())
	}
	if span.Parent().SpanID() != tr.Root.SpanID() {
		t.Errorf("parent = %v, want the caller's span %v", span.Parent().SpanID(), tr.Root.SpanID())
	}
	for key, want := range map[attribute.Key]string{
		semconv.DBSystemNameKey:     "postgresql",
		semconv.DBNamespaceKey:      cc.Database,
		semconv.ServerAddressKey:    cc.Host,
		semconv.DBOperationNameKey:  "SELECT",
		semconv.DBCollectionNameKey: "items",
		semconv.DBQueryTextKey:      `SELECT ` + itemColumns + ` FROM items WHERE id = $1`,
	} {
		if got, _ := tracingtest.Attr(span, key); got.String() != want {
			t.Errorf("%s = %q, want %q", key, got.String(), want)
		}
	}
	if got, _ := tracingtest.Attr(span, semconv.ServerPortKey); got.AsInt64() != int64(cc.Port) {
		t.Errorf("server.port = %d, want %d", got.AsInt64(), cc.Port)
	}
	// The write: its statements in one batch, one span.
	write := tr.Span(t, "BATCH INSERT")
	if got, _ := tracingtest.Attr(write, semconv.DBOperationBatchSizeKey); got.AsInt64() != 2 {
		t.Errorf("db.operation.batch.size = %d, want 2 (the item and its event)", got.AsInt64())
	}
	if got, _ := tracingtest.Attr(write, semconv.DBQueryTextKey); !strings.Contains(got.AsString(), "INSERT INTO items") ||
		!strings.Contains(got.AsString(), "INSERT INTO outbox") {
		t.Errorf("db.query.text = %q, want both statements", got.AsString())
	}
	if write.SpanKind() != trace.SpanKindClient || write.Parent().SpanID() != tr.Root.SpanID() {
		t.Errorf("write span: kind %v, parent %v; want a client span of the caller's %v", write.SpanKind(), write.Parent().SpanID(), tr.Root.SpanID())
	}
	for _, name := range []string{"begin", "commit"} {
		if spans := tr.Spans(name); len(spans) != 0 {
			t.Errorf("%d %q spans: a create without an idempotency key needs no explicit transaction", len(spans), name)
		}
	}

	// With a key: the lock and the lookup in a transaction, then the batch in it.
	if _, _, err := repo.Create(ctx, newItem("K"), items.Idempotency{Key: "k", TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"begin", "SELECT idempotency_keys", "commit"} {
		if spans := tr.Spans(name); len(spans) != 1 {
			t.Errorf("%d %q spans after a create with a key, want 1", len(spans), name)
		}
	}
}

func TestAFailedBatchMarksItsSpan(t *testing.T) {
	db := migrated(t)
	ctx, tr := tracingtest.Start(t)
	repo := db.Items()
	if _, _, err := repo.Create(ctx, newItem("D"), items.Idempotency{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := repo.Create(ctx, newItem("D"), items.Idempotency{}); err == nil {
		t.Fatal("a duplicate create succeeded")
	}
	spans := tr.Spans("BATCH INSERT")
	if len(spans) != 2 {
		t.Fatalf("%d write spans, want 2", len(spans))
	}
	failed := spans[1]
	if failed.Status().Code != codes.Error {
		t.Errorf("status of the duplicate's span = %v, want an error", failed.Status())
	}
	if got, _ := tracingtest.Attr(failed, semconv.DBResponseStatusCodeKey); got.AsString() != "23505" {
		t.Errorf("db.response.status_code = %q, want 23505 (unique_violation)", got.AsString())
	}
}

func TestAFailedQueryMarksItsSpan(t *testing.T) {
	db := migrated(t)
	ctx, tr := tracingtest.Start(t)
	if _, err := db.pool.Exec(ctx, `SELECT * FROM no_such_table`); err == nil {
		t.Fatal("a query of a missing table succeeded")
	}
	span := tr.Span(t, "SELECT no_such_table")
	if span.Status().Code != codes.Error {
		t.Errorf("status = %v, want an error", span.Status())
	}
	if got, _ := tracingtest.Attr(span, semconv.DBResponseStatusCodeKey); got.AsString() != "42P01" {
		t.Errorf("db.response.status_code = %q, want 42P01 (undefined_table)", got.AsString())
	}
}

func TestQueriesOutsideATraceMakeNoSpans(t *testing.T) {
	db := migrated(t)
	tracingtest.Start(t)
	query := `SELECT 1 AS untraced_` + rand.Text()
	if _, err := db.pool.Exec(context.Background(), query); err != nil {
		t.Fatal(err)
	}
	for _, s := range tracingtest.Ended() {
		if text, _ := tracingtest.Attr(s, semconv.DBQueryTextKey); text.AsString() == query {
			t.Fatalf("a query outside any trace made the span %q", s.Name())
		}
	}
}

// The requests the sampler leaves out are most requests: their queries cost no span.
func TestQueriesOfAnUnsampledTraceMakeNoSpans(t *testing.T) {
	db := migrated(t)
	ctx, tr := tracingtest.Unsampled(t)
	if _, err := db.pool.Exec(ctx, `SELECT 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `SELECT * FROM no_such_table`); err == nil {
		t.Fatal("a query of a missing table succeeded")
	}
	if spans := tr.Spans("SELECT"); len(spans) != 0 {
		t.Fatalf("queries of a trace not sampled made %d spans", len(spans))
	}
}

func TestSummarize(t *testing.T) {
	for _, tc := range []struct{ sql, op, table string }{
		{`SELECT id, name FROM items WHERE id = $1`, "SELECT", "items"},
		{`INSERT INTO outbox (event_id, data) VALUES ($1, $2)`, "INSERT", "outbox"},
		{"UPDATE items SET name = $2\n\t\tWHERE id = $1", "UPDATE", "items"},
		{`DELETE FROM public.items WHERE id = $1`, "DELETE", "public.items"},
		{`SELECT EXISTS (SELECT 1 FROM items WHERE id = $1)`, "SELECT", "items"},
		{`SELECT count(*), min(occurred_at) FROM outbox`, "SELECT", "outbox"},
		{`SELECT * FROM (SELECT 1) AS one`, "SELECT", ""},
		{`begin`, "begin", ""},
		{`SELECT 1`, "SELECT", ""},
		{"  ", "", ""},
	} {
		if op, table := summarize(tc.sql); op != tc.op || table != tc.table {
			t.Errorf("summarize(%q) = %q, %q; want %q, %q", tc.sql, op, table, tc.op, tc.table)
		}
	}
}

func TestWritesKeepTheirTraceInTheOutbox(t *testing.T) {
	db := migrated(t)
	ctx, tr := tracingtest.Start(t)
	if _, _, err := db.Items().Create(ctx, newItem("T"), items.Idempotency{}); err != nil {
		t.Fatal(err)
	}
	var stored string
	if err := db.pool.QueryRow(context.Background(), `SELECT traceparent FROM outbox WHERE item_id = 'T'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	want := "00-" + tr.Root.TraceID().String() + "-" + tr.Root.SpanID().String() + "-01"
	if stored != want {
		t.Errorf("outbox traceparent = %q, want the writer's span %q", stored, want)
	}

	// The relay reads it back with the event.
	var claimed []outbox.Event
	if _, err := db.Outbox().Claim(context.Background(), 10, func(_ context.Context, batch []outbox.Event) error {
		claimed = batch
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(claimed) != 1 || claimed[0].Traceparent != want {
		t.Fatalf("claimed %d events (the first's traceparent %q), want one with traceparent %q", len(claimed), first(claimed).Traceparent, want)
	}

	// A write outside any trace stores none.
	if _, _, err := db.Items().Create(context.Background(), newItem("U"), items.Idempotency{}); err != nil {
		t.Fatal(err)
	}
	if err := db.pool.QueryRow(context.Background(), `SELECT traceparent FROM outbox WHERE item_id = 'U'`).Scan(&stored); err != nil || stored != "" {
		t.Errorf("untraced write stored traceparent %q (%v), want none", stored, err)
	}
}

// first is the first of events, or no event.
func first(events []outbox.Event) outbox.Event {
	if len(events) == 0 {
		return outbox.Event{}
	}
	return events[0]
}
