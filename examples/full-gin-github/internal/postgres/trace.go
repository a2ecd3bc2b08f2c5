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
	op, table := summarize(data.SQL)
	name, attrs := op, []attribute.KeyValue{semconv.DBOperationName(op), semconv.DBQueryText(data.SQL)}
	if table != "" {
		name += " " + table
		attrs = append(attrs, semconv.DBCollectionName(table))
	}
	ctx, _ = tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(qt.attrs...), trace.WithAttributes(attrs...))
	return ctx
}

// TraceQueryEnd implements pgx.QueryTracer. Outside a sampled trace,
// TraceQueryStart started no span: ctx holds the caller's span, if any, which is
// not the query's to end.
func (qt *queryTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	span := trace.SpanFromContext(ctx)
	if !span.SpanContext().IsSampled() {
		return
	}
	if err := data.Err; err != nil {
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
