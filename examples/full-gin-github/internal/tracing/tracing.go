// Package tracing sets up OpenTelemetry tracing: the global TracerProvider, which
// batches spans and exports them over OTLP, and the global propagator (W3C trace
// context and baggage). Instrumentation elsewhere uses only the global API
// (otel.Tracer, otel.GetTextMapPropagator), so that it costs almost nothing when
// tracing is disabled and tests can record spans with a provider of their own.
//
// Everything is configured by the standard OpenTelemetry environment variables; the
// SDK and the exporters read most of them themselves (see Setup).
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// serviceName is service.name unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES
// says otherwise.
const serviceName = "orders-api"

// Protocols of OTEL_EXPORTER_OTLP_PROTOCOL this service speaks; http/protobuf is the
// specification's default.
const (
	protocolHTTP = "http/protobuf"
	protocolGRPC = "grpc"
)

// FlushTimeout is the most main waits at exit for the last spans to be exported.
const FlushTimeout = 5 * time.Second

// errorLogInterval is the least time between two log lines about OpenTelemetry's
// errors: a collector that is down fails every export, and the log must not fill up
// with that.
const errorLogInterval = 30 * time.Second

// Setup sets the global propagator and TracerProvider and returns the function that
// flushes and stops the provider (call it last, with a bounded context: it gives up
// when the context ends, even when the collector hangs). These variables configure it:
//
//   - OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none: no provider is set; spans
//     are not recorded (the propagator still passes trace context on).
//     OTEL_TRACES_EXPORTER may otherwise only be otlp (the default).
//   - OTEL_EXPORTER_OTLP_PROTOCOL (or OTEL_EXPORTER_OTLP_TRACES_PROTOCOL):
//     http/protobuf (default) or grpc; anything else is a configuration error.
//   - OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, _HEADERS,
//     _TIMEOUT, _COMPRESSION, _CERTIFICATE, ...: read by the exporter (default
//     localhost:4318 for HTTP, localhost:4317 for gRPC).
//   - OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES: the resource (service.name
//     defaults to the service's name).
//   - OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG: read by the SDK (default
//     parentbased_always_on; an unknown sampler is logged and the default kept).
//   - OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_EXPORT_TIMEOUT,
//     OTEL_BSP_MAX_EXPORT_BATCH_SIZE: the batch processor's (batcher; an invalid value
//     is logged and the default kept, as the SDK does).
//
// Exporting never slows a request down: ended spans wait in the batch processor's
// bounded queue, which drops spans when it is full, and a background goroutine
// exports them. Export errors are logged at most once per errorLogInterval; the
// span counts (Counters) tell how many spans were exported and how many were lost.
func Setup(ctx context.Context, logger *slog.Logger) (shutdown func(context.Context) error, err error) {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	otel.SetErrorHandler(newErrorLog(logger, errorLogInterval))
	if strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_SDK_DISABLED")), "true") {
		logger.Info("tracing disabled (OTEL_SDK_DISABLED=true)")
		return func(context.Context) error { return nil }, nil
	}
	switch exporter := strings.TrimSpace(os.Getenv("OTEL_TRACES_EXPORTER")); exporter {
	case "", "otlp":
	case "none":
		logger.Info("tracing disabled (OTEL_TRACES_EXPORTER=none)")
		return func(context.Context) error { return nil }, nil
	default:
		return nil, fmt.Errorf("invalid configuration: OTEL_TRACES_EXPORTER: %q is not supported (otlp or none)", exporter)
	}
	exporter, protocol, err := newExporter(ctx)
	if err != nil {
		return nil, err
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(serviceName)),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(), // last: OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME win
	)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("invalid configuration: OTEL_RESOURCE_ATTRIBUTES or OTEL_SERVICE_NAME: %w", err), exporter.Shutdown(ctx))
	}
	provider := sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		// No sampler option: the SDK reads OTEL_TRACES_SAMPLER[_ARG] itself.
		sdktrace.WithSpanProcessor(newBatcher(exporter, batchConfigFromEnv(func(err error) {
			logger.Warn("tracing: invalid batch processor setting", "error", err.Error())
		}))),
	)
	otel.SetTracerProvider(provider)
	logger.Info("tracing to OTLP", "protocol", protocol)
	return provider.Shutdown, nil
}

// newExporter returns the OTLP exporter of the protocol the environment names. The
// exporters read the endpoint, headers, timeout and TLS settings themselves and
// connect on first export, so a collector that is down does not stop the start.
func newExporter(ctx context.Context) (sdktrace.SpanExporter, string, error) {
	protocol, key := protocolHTTP, ""
	for _, k := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if v := strings.TrimSpace(os.Getenv(k)); v != "" {
			protocol, key = v, k
			break
		}
	}
	var (
		exporter sdktrace.SpanExporter
		err      error
	)
	switch protocol {
	case protocolHTTP:
		exporter, err = otlptracehttp.New(ctx)
	case protocolGRPC:
		exporter, err = otlptracegrpc.New(ctx)
	default:
		return nil, "", fmt.Errorf("invalid configuration: %s: %q is not a supported protocol (%s or %s)", key, protocol, protocolHTTP, protocolGRPC)
	}
	if err != nil {
		return nil, "", fmt.Errorf("invalid configuration: OTLP %s exporter: %w", protocol, err)
	}
	return exporter, protocol, nil
}
