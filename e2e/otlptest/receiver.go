// Package otlptest is an OTLP/HTTP trace receiver for tests and benchmarks: a collector-free
// endpoint that speaks the protocol a generated service's exporter speaks (POST /v1/traces,
// binary protobuf or JSON, optionally gzip-compressed, answered with an
// ExportTraceServiceResponse) and keeps the spans it is sent, flattened to what a test
// asserts on.
//
// Serve a Receiver with net/http (httptest.NewServer(&otlptest.Receiver{})) and point the
// service's OTEL_EXPORTER_OTLP_ENDPOINT at the server's URL; GRPCServer offers the same over
// OTLP/gRPC.
package otlptest

import (
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	collectorpb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	_ "google.golang.org/grpc/encoding/gzip" // exporters may compress (OTEL_EXPORTER_OTLP_COMPRESSION=gzip)
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Path is where OTLP/HTTP exporters send traces (OTEL_EXPORTER_OTLP_ENDPOINT + "/v1/traces").
const Path = "/v1/traces"

// maxBody bounds one export request, decompressed.
const maxBody = 64 << 20

// Span is one received span, flattened: ids in lowercase hex, attribute values as strings.
type Span struct {
	TraceID, SpanID, ParentSpanID string
	Name                          string
	Kind                          string // internal, server, client, producer, consumer (or unspecified)
	Scope                         string // the instrumentation scope: the tracer's name
	Attrs                         map[string]string
	Resource                      map[string]string // the resource attributes (service.name, ...)
	Start, End                    time.Time
	StatusCode                    string // unset, ok, error
}

// Receiver is an http.Handler accepting OTLP/HTTP trace exports. The zero value keeps every span
// it receives; with Discard it only counts them (a sink for benchmarks). It is safe for
// concurrent use.
type Receiver struct {
	Discard bool

	mu       sync.Mutex
	spans    []Span
	count    int
	requests int
}

// ServeHTTP answers one export request as the OTLP/HTTP specification says: 200 with an
// ExportTraceServiceResponse in the request's encoding, 400 with a google.rpc.Status for a body
// that does not decode, 404, 405 and 415 for the wrong path, method and content type.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path != Path {
		http.NotFound(w, req)
		return
	}
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	media, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	var codec codec
	switch media {
	case "application/x-protobuf":
		codec = protoCodec{}
	case "application/json":
		codec = jsonCodec{}
	default:
		http.Error(w, "unsupported content type "+strconv.Quote(media), http.StatusUnsupportedMediaType)
		return
	}
	body, err := readBody(req)
	if err != nil {
		r.fail(w, codec, err)
		return
	}
	if _, ok := codec.(protoCodec); ok && r.Discard {
		// A sink only counts: walking the wire format costs a small part of decoding
		// every span's attributes into messages, so a benchmark's receiver takes less
		// of the CPU it shares with the load generator.
		n, err := countSpans(body)
		if err != nil {
			r.fail(w, codec, fmt.Errorf("decoding ExportTraceServiceRequest: %w", err))
			return
		}
		r.add(n, nil)
	} else {
		var export collectorpb.ExportTraceServiceRequest
		if err := codec.unmarshal(body, &export); err != nil {
			r.fail(w, codec, fmt.Errorf("decoding ExportTraceServiceRequest: %w", err))
			return
		}
		r.record(&export)
	}
	out, err := codec.marshal(&collectorpb.ExportTraceServiceResponse{})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", codec.contentType())
	_, _ = w.Write(out)
}

// fail answers 400 with a google.rpc.Status, the protocol's error body.
func (r *Receiver) fail(w http.ResponseWriter, c codec, err error) {
	out, merr := c.marshal(&status.Status{Code: 3 /* INVALID_ARGUMENT */, Message: err.Error()})
	if merr != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", c.contentType())
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write(out)
}

// readBody reads the request body, gunzipping it when the exporter compressed it.
func readBody(req *http.Request) ([]byte, error) {
	var in io.Reader = req.Body
	switch enc := req.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			return nil, fmt.Errorf("gzip body: %w", err)
		}
		defer zr.Close()
		in = zr
	default:
		return nil, fmt.Errorf("unsupported Content-Encoding %q", enc)
	}
	body, err := io.ReadAll(io.LimitReader(in, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading body: %w", err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("body larger than %d bytes", maxBody)
	}
	return body, nil
}

// record counts the export's spans and, unless discarding, keeps them.
func (r *Receiver) record(export *collectorpb.ExportTraceServiceRequest) {
	var got []Span
	n := 0
	for _, rs := range export.GetResourceSpans() {
		res := attrs(rs.GetResource().GetAttributes())
		for _, ss := range rs.GetScopeSpans() {
			n += len(ss.GetSpans())
			if r.Discard {
				continue
			}
			for _, s := range ss.GetSpans() {
				got = append(got, Span{
					TraceID:      hex.EncodeToString(s.GetTraceId()),
					SpanID:       hex.EncodeToString(s.GetSpanId()),
					ParentSpanID: hex.EncodeToString(s.GetParentSpanId()),
					Name:         s.GetName(),
					Kind:         kindName(s.GetKind()),
					Scope:        ss.GetScope().GetName(),
					Attrs:        attrs(s.GetAttributes()),
					Resource:     res,
					Start:        time.Unix(0, int64(s.GetStartTimeUnixNano())),
					End:          time.Unix(0, int64(s.GetEndTimeUnixNano())),
					StatusCode:   statusName(s.GetStatus().GetCode()),
				})
			}
		}
	}
	r.add(n, got)
}

// add records one export of n spans, keeping got.
func (r *Receiver) add(n int, got []Span) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	r.count += n
	r.spans = append(r.spans, got...)
}

// The field numbers countSpans follows: ExportTraceServiceRequest.resource_spans,
// ResourceSpans.scope_spans and ScopeSpans.spans.
const (
	fieldResourceSpans protowire.Number = 1
	fieldScopeSpans    protowire.Number = 2
	fieldSpans         protowire.Number = 2
)

// countSpans counts the spans of a binary ExportTraceServiceRequest without decoding
// them: it follows the three levels of nesting down to the spans and skips every
// other field, failing on bytes that are not the wire format.
func countSpans(b []byte) (int, error) {
	var n int
	err := eachMessage(b, fieldResourceSpans, func(rs []byte) error {
		return eachMessage(rs, fieldScopeSpans, func(ss []byte) error {
			return eachMessage(ss, fieldSpans, func([]byte) error { n++; return nil })
		})
	})
	return n, err
}

// eachMessage calls f with the bytes of every field number num (a message, so
// length-delimited) of the message b, and skips its other fields.
func eachMessage(b []byte, num protowire.Number, f func([]byte) error) error {
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return protowire.ParseError(l)
		}
		b = b[l:]
		if n == num && typ == protowire.BytesType {
			v, l := protowire.ConsumeBytes(b)
			if l < 0 {
				return protowire.ParseError(l)
			}
			if err := f(v); err != nil {
				return err
			}
			b = b[l:]
			continue
		}
		l = protowire.ConsumeFieldValue(n, typ, b)
		if l < 0 {
			return protowire.ParseError(l)
		}
		b = b[l:]
	}
	return nil
}

// Spans returns a copy of every span kept so far, in arrival order.
func (r *Receiver) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Span(nil), r.spans...)
}

// Trace returns the spans kept so far of one trace (id in hex).
func (r *Receiver) Trace(traceID string) []Span {
	var out []Span
	for _, s := range r.Spans() {
		if s.TraceID == traceID {
			out = append(out, s)
		}
	}
	return out
}

// Counts reports how many export requests were answered 200 and how many spans they carried
// (kept or discarded).
func (r *Receiver) Counts() (requests, spans int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests, r.count
}

// Wait polls the kept spans until done returns true for them, and returns them; when ctx ends
// first it returns the spans of the last poll and ctx's error.
func (r *Receiver) Wait(ctx context.Context, done func([]Span) bool) ([]Span, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		spans := r.Spans()
		if done(spans) {
			return spans, nil
		}
		select {
		case <-ctx.Done():
			return spans, ctx.Err()
		case <-tick.C:
		}
	}
}

// attrs flattens OTLP key-values to strings.
func attrs(kvs []*commonpb.KeyValue) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		m[kv.GetKey()] = valueString(kv.GetValue())
	}
	return m
}

// valueString renders an AnyValue: strings as they are, numbers and booleans as Go prints them,
// arrays as [a b], key-value lists as {k=v}, bytes in hex.
func valueString(v *commonpb.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_BoolValue:
		return strconv.FormatBool(x.BoolValue)
	case *commonpb.AnyValue_IntValue:
		return strconv.FormatInt(x.IntValue, 10)
	case *commonpb.AnyValue_DoubleValue:
		return strconv.FormatFloat(x.DoubleValue, 'g', -1, 64)
	case *commonpb.AnyValue_BytesValue:
		return hex.EncodeToString(x.BytesValue)
	case *commonpb.AnyValue_ArrayValue:
		parts := make([]string, 0, len(x.ArrayValue.GetValues()))
		for _, e := range x.ArrayValue.GetValues() {
			parts = append(parts, valueString(e))
		}
		return "[" + strings.Join(parts, " ") + "]"
	case *commonpb.AnyValue_KvlistValue:
		parts := make([]string, 0, len(x.KvlistValue.GetValues()))
		for _, kv := range x.KvlistValue.GetValues() {
			parts = append(parts, kv.GetKey()+"="+valueString(kv.GetValue()))
		}
		return "{" + strings.Join(parts, " ") + "}"
	}
	return ""
}

// kindName is a span kind as the specification spells it, lowercase.
func kindName(k tracepb.Span_SpanKind) string {
	switch k {
	case tracepb.Span_SPAN_KIND_INTERNAL:
		return "internal"
	case tracepb.Span_SPAN_KIND_SERVER:
		return "server"
	case tracepb.Span_SPAN_KIND_CLIENT:
		return "client"
	case tracepb.Span_SPAN_KIND_PRODUCER:
		return "producer"
	case tracepb.Span_SPAN_KIND_CONSUMER:
		return "consumer"
	}
	return "unspecified"
}

// statusName is a span status code, lowercase.
func statusName(c tracepb.Status_StatusCode) string {
	switch c {
	case tracepb.Status_STATUS_CODE_OK:
		return "ok"
	case tracepb.Status_STATUS_CODE_ERROR:
		return "error"
	}
	return "unset"
}

// codec is one of the protocol's two encodings.
type codec interface {
	contentType() string
	unmarshal([]byte, proto.Message) error
	marshal(proto.Message) ([]byte, error)
}

// protoCodec is binary protobuf, application/x-protobuf: what exporters send by default.
type protoCodec struct{}

func (protoCodec) contentType() string                       { return "application/x-protobuf" }
func (protoCodec) unmarshal(b []byte, m proto.Message) error { return proto.Unmarshal(b, m) }
func (protoCodec) marshal(m proto.Message) ([]byte, error)   { return proto.Marshal(m) }

// jsonCodec is OTLP's JSON mapping, application/json: Protobuf JSON, except that trace and span
// ids are hex strings (not base64) and enums are integers.
type jsonCodec struct{}

func (jsonCodec) contentType() string                       { return "application/json" }
func (jsonCodec) unmarshal(b []byte, m proto.Message) error { return unmarshalOTLPJSON(b, m) }
func (jsonCodec) marshal(m proto.Message) ([]byte, error)   { return protojson.Marshal(m) }

// idFields are the bytes fields OTLP/JSON writes in hex.
var idFields = map[string]bool{"traceId": true, "spanId": true, "parentSpanId": true}

// unmarshalOTLPJSON rewrites the hex ids to the base64 Protobuf JSON expects, then decodes.
func unmarshalOTLPJSON(b []byte, m proto.Message) error {
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	if err := hexIDsToBase64(doc); err != nil {
		return err
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	return protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(b, m)
}

func hexIDsToBase64(v any) error {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && idFields[k] {
				raw, err := hex.DecodeString(s)
				if err != nil {
					return fmt.Errorf("%s %q: not hex", k, s)
				}
				x[k] = base64.StdEncoding.EncodeToString(raw)
				continue
			}
			if err := hexIDsToBase64(e); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range x {
			if err := hexIDsToBase64(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// GRPCServer returns a gRPC server offering the OTLP/gRPC trace service
// (opentelemetry.proto.collector.trace.v1.TraceService), gzip included, that records into r as
// the HTTP endpoint does: serve it on a listener and point the exporter there with
// OTEL_EXPORTER_OTLP_PROTOCOL=grpc.
func (r *Receiver) GRPCServer() *grpc.Server {
	s := grpc.NewServer()
	collectorpb.RegisterTraceServiceServer(s, grpcTraces{r: r})
	return s
}

// grpcTraces is the TraceService of GRPCServer.
type grpcTraces struct {
	collectorpb.UnimplementedTraceServiceServer
	r *Receiver
}

func (g grpcTraces) Export(_ context.Context, req *collectorpb.ExportTraceServiceRequest) (*collectorpb.ExportTraceServiceResponse, error) {
	g.r.record(req)
	return &collectorpb.ExportTraceServiceResponse{}, nil
}
