package cache

import (
	"context"
	"errors"
	"net"
	"strconv"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// tracer starts the spans of the Redis commands, from the global TracerProvider.
var tracer = otel.Tracer("github.com/acme/orders-api/internal/cache")

// tracingHook is the client's go-redis hook that makes a client span of every
// command (and pipeline) sent in a sampled trace, named after the command ("get").
// Commands outside any trace (the background retries of failed invalidations) make
// none, nor do those of a request the sampler left out: their spans would record
// nothing (the sampler follows the parent's decision), and a command passes no trace
// context on, so such a span would only cost the request time. Spans name the
// command, never its keys or values.
type tracingHook struct {
	attrs []attribute.KeyValue // of the server: system, database index, address
}

var _ redis.Hook = tracingHook{}

func newTracingHook(opts *redis.Options) tracingHook {
	attrs := []attribute.KeyValue{semconv.DBSystemNameRedis, semconv.DBNamespace(strconv.Itoa(opts.DB))}
	if host, port, err := net.SplitHostPort(opts.Addr); err == nil {
		attrs = append(attrs, semconv.ServerAddress(host))
		if p, err := strconv.Atoi(port); err == nil {
			attrs = append(attrs, semconv.ServerPort(p))
		}
	}
	return tracingHook{attrs: attrs}
}

// DialHook implements redis.Hook: dials are not traced.
func (h tracingHook) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook.
func (h tracingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !trace.SpanContextFromContext(ctx).IsSampled() {
			return next(ctx, cmd)
		}
		ctx, span := h.start(ctx, cmd.Name())
		err := next(ctx, cmd)
		end(span, err)
		return err
	}
}

// ProcessPipelineHook implements redis.Hook: one span for the pipeline, named as
// the semantic conventions name batches ("BATCH get" when every command is a
// get, else "BATCH").
func (h tracingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if !trace.SpanContextFromContext(ctx).IsSampled() {
			return next(ctx, cmds)
		}
		op := "BATCH"
		if len(cmds) > 0 && sameName(cmds) {
			op += " " + cmds[0].Name()
		}
		ctx, span := h.start(ctx, op, semconv.DBOperationBatchSize(len(cmds)))
		err := next(ctx, cmds)
		end(span, err)
		return err
	}
}

// start starts the span of op with the server's attributes and attrs, gathered in
// one slice (the SDK copies each WithAttributes option's into the span's own).
func (h tracingHook) start(ctx context.Context, op string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	all := make([]attribute.KeyValue, 0, len(h.attrs)+1+len(attrs))
	all = append(append(append(all, h.attrs...), semconv.DBOperationName(op)), attrs...)
	return tracer.Start(ctx, op, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(all...))
}

// end ends span, marking it failed unless err is nil or redis.Nil (a missing
// key is an answer: a cache miss).
func end(span trace.Span, err error) {
	if err != nil && !errors.Is(err, redis.Nil) {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		span.SetAttributes(semconv.ErrorType(err))
	}
	span.End()
}

// sameName reports whether every command of cmds has the same name.
func sameName(cmds []redis.Cmder) bool {
	for _, cmd := range cmds[1:] {
		if cmd.Name() != cmds[0].Name() {
			return false
		}
	}
	return true
}
