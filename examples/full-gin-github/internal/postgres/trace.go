package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// tracer starts the spans of the queries, from the global TracerProvider.
var tracer = otel.Tracer("github.com/acme/orders-api/internal/postgres")

// queryTracer is the pool's pgx.QueryTracer: a client span for every query run in
// a sampled trace (a request's), named "<operation> <table>" ("SELECT items").
// Queries outside any trace make none: the outbox relay's polls and the pruning
// of idempotency keys would otherwise start a trace of their own every few seconds.
// Nor do the queries of a request the sampler left out: their spans would record
// nothing (the sampler follows the parent's decision), and a query passes no trace
// context on, so such a span would only cost the request time.
//
// A span holds the statement's text, which is safe to export: every statement the
// service runs passes its values as parameters, and parameters are not recorded.
type queryTracer struct {
	attrs []attribute.KeyValue // of the database: system, name, server
}

var _ pgx.QueryTracer = (*queryTracer)(nil)

func newQueryTracer(cc *pgx.ConnConfig) *queryTracer {
	return &queryTracer{attrs: []attribute.KeyValue{
		semconv.DBSystemNamePostgreSQL,
		semconv.DBNamespace(cc.Database),
		semconv.ServerAddress(cc.Host),
		semconv.ServerPort(int(cc.Port)),
	}}
}

// TraceQueryStart implements pgx.QueryTracer.
func (qt *queryTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if !trace.SpanContextFromContext(ctx).IsSampled() {
		return ctx
	}
	return qt.start(ctx, data.SQL)
}

// TraceQueryEnd implements pgx.QueryTracer. Outside a sampled trace,
// TraceQueryStart started no span: ctx holds the caller's span, if any, which is
// not the query's to end.
func (qt *queryTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	endSpan(ctx, data.Err)
}

var _ pgx.BatchTracer = (*queryTracer)(nil)

// TraceBatchStart implements pgx.BatchTracer: one client span for a batch of
// statements (sent in one round trip), named as the semantic conventions name
// batches: "BATCH INSERT" when every statement is an INSERT, else "BATCH", with the
// statements' text joined by "; ". A batch of one statement is that statement's span.
// Every sampled batch gets a span, even an empty one, because TraceBatchEnd ends the
// span in its context, which would otherwise be the caller's.
func (qt *queryTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	if !trace.SpanContextFromContext(ctx).IsSampled() {
		return ctx
	}
	queries := data.Batch.QueuedQueries
	if len(queries) == 1 {
		return qt.start(ctx, queries[0].SQL)
	}
	op := ""
	if len(queries) > 0 {
		op, _ = summarize(queries[0].SQL)
	}
	texts := make([]string, len(queries))
	for i, q := range queries {
		texts[i] = q.SQL
		if o, _ := summarize(q.SQL); !strings.EqualFold(o, op) {
			op = ""
		}
	}
	name := strings.TrimSpace("BATCH " + op)
	ctx, _ = tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(qt.attrs...), trace.WithAttributes(semconv.DBOperationName(name),
			semconv.DBOperationBatchSize(len(queries)), semconv.DBQueryText(strings.Join(texts, "; "))))
	return ctx
}

// TraceBatchQuery implements pgx.BatchTracer. The batch's span is the statements'
// span: the first error among them ends it as failed, in TraceBatchEnd.
func (qt *queryTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

// TraceBatchEnd implements pgx.BatchTracer.
func (qt *queryTracer) TraceBatchEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchEndData) {
	endSpan(ctx, data.Err)
}

// start starts the client span of one statement, named "<operation> <table>".
func (qt *queryTracer) start(ctx context.Context, sql string) context.Context {
	op, table := summarize(sql)
	name, attrs := op, []attribute.KeyValue{semconv.DBOperationName(op), semconv.DBQueryText(sql)}
	if table != "" {
		name += " " + table
		attrs = append(attrs, semconv.DBCollectionName(table))
	}
	ctx, _ = tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(qt.attrs...), trace.WithAttributes(attrs...))
	return ctx
}

// endSpan ends the span a start hook began, failed with err's SQLSTATE when err is
// not nil. Outside a sampled trace the start hook began none.
func endSpan(ctx context.Context, err error) {
	span := trace.SpanFromContext(ctx)
	if !span.SpanContext().IsSampled() {
		return
	}
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			span.SetAttributes(semconv.DBResponseStatusCode(pgErr.Code), semconv.ErrorTypeKey.String(pgErr.Code))
		} else {
			span.SetAttributes(semconv.ErrorType(err))
		}
	}
	span.End()
}

// summarize returns the operation of a statement, its first word as written
// ("SELECT", "begin"), and the first table it names after FROM, INTO or UPDATE
// ("" when there is none, as in "begin" or "SELECT 1").
func summarize(sql string) (op, table string) {
	words := strings.Fields(sql)
	if len(words) == 0 {
		return "", ""
	}
	for i, w := range words[:len(words)-1] {
		switch strings.ToUpper(w) {
		case "FROM", "INTO", "UPDATE":
			if name := strings.TrimRight(words[i+1], ",;)"); isIdentifier(name) {
				return words[0], name
			}
		}
	}
	return words[0], ""
}

// isIdentifier reports whether s is a plain, possibly schema-qualified, table name.
func isIdentifier(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, c := range s {
		if c != '_' && c != '.' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
