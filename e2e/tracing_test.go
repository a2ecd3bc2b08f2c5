package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/svcgen/svcgen/e2e/otlptest"
)

// TestTracingEndToEnd is issue L's "Done when", on a generated gin+postgres+redis+kafka+prometheus
// service with --tracing otel, run as a binary against real PostgreSQL and Redis, a kfake Kafka
// and an OTLP/HTTP receiver speaking the protocol (e2e/otlptest), configured only by the
// standard OTEL_* variables:
//   - a POST sent with a traceparent of the test's own yields, in that trace, the server span
//     (named for the route pattern, http.route), a PostgreSQL span, the relay's Kafka publish span
//     whose ancestry reaches the server span, and the consumer's span, a child of the publish span;
//   - the record on the topic carries the traceparent of the publish span;
//   - the second GET of the item (a cache hit) yields a Redis span and no PostgreSQL span;
//   - the POST's log lines carry its trace_id and span_id, and so does the consumer's line about
//     its event; the POST's latency observation carries the trace id as an exemplar (OpenMetrics);
//   - every span names the one service.name of OTEL_SERVICE_NAME;
//   - spans still queued when SIGTERM comes are exported before the process exits;
//   - with OTEL_EXPORTER_OTLP_PROTOCOL=grpc the spans reach an OTLP/gRPC receiver;
//   - the generated tests pass against the same servers, none skipped.
func TestTracingEndToEnd(t *testing.T) {
	const name, serviceName = "trace-svc", "trace-svc-e2e"
	l := generateLive(t, "tracing end to end", name, "--framework", "gin", "--database", "postgres",
		"--cache", "redis", "--broker", "kafka", "--metrics", "prometheus", "--tracing", "otel")
	stage := stager(t)
	drill := buildDrill(t)
	stage("generated; go test -race of the service")
	testNothingSkipped(t, l.Dir, l.servers())

	recv := &otlptest.Receiver{}
	collector := httptest.NewServer(recv)
	t.Cleanup(collector.Close)
	b := startBroker(t, drill)
	b.serve(t)
	topic := "trace-" + strings.ToLower(rand.Text()) + ".items"
	adminPort := freePort(t)
	svcEnv := l.env(
		"KAFKA_BROKERS="+b.addr, "KAFKA_TOPIC="+topic, "KAFKA_CONSUMER_ENABLED=true",
		fmt.Sprintf("ADMIN_PORT=%d", adminPort), "RATE_LIMIT_RPS=0", "LOG_LEVEL=info",
		"OTEL_EXPORTER_OTLP_ENDPOINT="+collector.URL, "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
		"OTEL_SERVICE_NAME="+serviceName, "OTEL_TRACES_SAMPLER=parentbased_always_on",
	)
	s := startService(t, l.Dir, name, append(svcEnv, "OTEL_BSP_SCHEDULE_DELAY=100"))
	waitStorage(t, s)

	stage("POST with a traceparent: server, PostgreSQL, publish and consume spans")
	postTrace, callerSpan := newTraceID(), newSpanID()
	postRequestID := "trace-e2e-" + strings.ToLower(rand.Text())
	created := call(s.URL, "POST", "/v1/items", `{"name":"traced","price":42}`, map[string]string{
		"traceparent": "00-" + postTrace + "-" + callerSpan + "-01", "X-Request-ID": postRequestID,
	})
	if created.status != 201 || created.id == "" {
		t.Fatalf("POST /v1/items = %d %s\nlogs:\n%s", created.status, created.body, s.logs)
	}
	spans := waitTrace(t, recv, postTrace, "a server span, a PostgreSQL span, a Kafka publish span and a consume span",
		func(tr []otlptest.Span) bool {
			return has(tr, serverSpan) && has(tr, postgresSpan) && has(tr, publishSpan) && has(tr, consumeSpan)
		})
	server := only(t, spans, serverSpan, "server")
	if server.Name != "POST /v1/items" || server.Attrs["http.route"] != "/v1/items" || server.ParentSpanID != callerSpan {
		t.Errorf("server span %q, http.route %q, parent %s; want POST /v1/items, /v1/items, the caller's span %s",
			server.Name, server.Attrs["http.route"], server.ParentSpanID, callerSpan)
	}
	if server.Attrs["http.request.method"] != "POST" || server.Attrs["http.response.status_code"] != "201" {
		t.Errorf("server span attributes %v: want http.request.method POST, http.response.status_code 201", server.Attrs)
	}
	for _, db := range filter(spans, postgresSpan) {
		if !descends(spans, db, server.SpanID) {
			t.Errorf("PostgreSQL span %q (parent %s) is not under the server span %s", db.Name, db.ParentSpanID, server.SpanID)
		}
	}
	publish := only(t, spans, publishSpan, "successful Kafka publish")
	if publish.Name != "publish "+topic || publish.Attrs["messaging.destination.name"] != topic {
		t.Errorf("publish span %q, messaging.destination.name %q; want publish %s", publish.Name, publish.Attrs["messaging.destination.name"], topic)
	}
	if !descends(spans, publish, server.SpanID) {
		t.Errorf("the relay's publish span (parent %s) does not descend from the request's server span %s:\n%s", publish.ParentSpanID, server.SpanID, describe(spans))
	}
	consume := only(t, spans, consumeSpan, "Kafka consume")
	if consume.ParentSpanID != publish.SpanID || consume.Name != "process "+topic {
		t.Errorf("consume span %q with parent %s; want process %s, a child of the publish span %s", consume.Name, consume.ParentSpanID, topic, publish.SpanID)
	}

	stage("the record's traceparent")
	header := recordTraceparent(t, b, topic, created.id)
	if want := "00-" + postTrace + "-" + publish.SpanID + "-01"; header != want {
		t.Errorf("record %s carries traceparent %q, want the publish span's %q", created.id, header, want)
	}

	stage("GET twice: the cache hit's Redis span")
	item := "/v1/items/" + created.id
	var getTraces [2]string
	for i := range getTraces {
		getTraces[i] = newTraceID()
		if r := call(s.URL, "GET", item, "", map[string]string{"traceparent": "00-" + getTraces[i] + "-" + newSpanID() + "-01"}); r.status != 200 {
			t.Fatalf("GET %d of %s = %d %s", i+1, item, r.status, r.body)
		}
	}
	hit := waitTrace(t, recv, getTraces[1], "a server span and a Redis span", func(tr []otlptest.Span) bool {
		return has(tr, serverSpan) && has(tr, redisSpan)
	})
	getServer := only(t, hit, serverSpan, "server")
	if getServer.Name != "GET /v1/items/{id}" || getServer.Attrs["http.route"] != "/v1/items/{id}" {
		t.Errorf("GET's server span %q, http.route %q; want GET /v1/items/{id}", getServer.Name, getServer.Attrs["http.route"])
	}
	for _, r := range filter(hit, redisSpan) {
		if !descends(hit, r, getServer.SpanID) {
			t.Errorf("Redis span %q (parent %s) is not under the GET's server span %s", r.Name, r.ParentSpanID, getServer.SpanID)
		}
	}
	if has(hit, postgresSpan) {
		t.Errorf("the second GET (a cache hit) went to PostgreSQL:\n%s", describe(hit))
	}

	stage("logs, exemplar, service.name")
	checkTraceLogs(t, s.logs.String(), "request_id", postRequestID, postTrace)
	checkTraceLogs(t, s.logs.String(), "item_id", created.id, postTrace) // the consumer's "item event"
	checkExemplar(t, s, adminPort, postTrace)
	names := map[string]int{}
	for _, sp := range recv.Spans() {
		names[sp.Resource["service.name"]]++
	}
	if len(names) != 1 || names[serviceName] == 0 {
		t.Errorf("service.name of the spans received: %v, want every one %q", names, serviceName)
	}

	stage("SIGTERM flushes the queue")
	// A batch delay far longer than the test, and batches larger than the spans it makes: the
	// span is still queued when SIGTERM comes, and only the shutdown's flush can export it.
	s.stop(t)
	s = restartService(t, s, append(slices.Clone(svcEnv), "OTEL_BSP_SCHEDULE_DELAY=600000",
		"OTEL_BSP_MAX_QUEUE_SIZE=65536", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=65536"))
	waitStorage(t, s)
	lastTrace := newTraceID()
	if r := call(s.URL, "GET", item, "", map[string]string{"traceparent": "00-" + lastTrace + "-" + newSpanID() + "-01"}); r.status != 200 {
		t.Fatalf("GET %s after the restart = %d %s", item, r.status, r.body)
	}
	time.Sleep(500 * time.Millisecond)
	if got := recv.Trace(lastTrace); len(got) != 0 {
		t.Fatalf("with OTEL_BSP_SCHEDULE_DELAY=600000 the span was exported before SIGTERM: the flush is not tested\n%s", describe(got))
	}
	s.stop(t)
	if !has(recv.Trace(lastTrace), serverSpan) {
		t.Errorf("the GET's server span, queued at SIGTERM, was not exported before the process exited (trace %s has %d spans)\nlogs:\n%s",
			lastTrace, len(recv.Trace(lastTrace)), tail(s.logs.String(), 20))
	}

	stage("OTLP/gRPC")
	grpcRecv := &otlptest.Receiver{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	grpcSrv := grpcRecv.GRPCServer()
	go func() { _ = grpcSrv.Serve(ln) }()
	t.Cleanup(grpcSrv.Stop)
	grpcEnv := append(slices.Clone(svcEnv), "OTEL_BSP_SCHEDULE_DELAY=100",
		"OTEL_EXPORTER_OTLP_PROTOCOL=grpc", "OTEL_EXPORTER_OTLP_ENDPOINT=http://"+ln.Addr().String())
	s = restartService(t, s, grpcEnv) // the later OTEL_* entries win
	waitStorage(t, s)
	grpcTrace := newTraceID()
	if r := call(s.URL, "GET", item, "", map[string]string{"traceparent": "00-" + grpcTrace + "-" + newSpanID() + "-01"}); r.status != 200 {
		t.Fatalf("GET %s with gRPC export = %d %s", item, r.status, r.body)
	}
	got := waitTrace(t, grpcRecv, grpcTrace, "a server span and a Redis span over OTLP/gRPC", func(tr []otlptest.Span) bool {
		return has(tr, serverSpan) && has(tr, redisSpan)
	})
	if sv := only(t, got, serverSpan, "server"); sv.Resource["service.name"] != serviceName {
		t.Errorf("over gRPC: service.name %q, want %q", sv.Resource["service.name"], serviceName)
	}
	s.stop(t)
}

// newTraceID and newSpanID are random W3C trace-context ids in lowercase hex.
func newTraceID() string { return randomHex(16) }
func newSpanID() string  { return randomHex(8) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Span kinds the test looks for, by their semantic-convention attributes (db.system.name in the
// current conventions, db.system in older ones).
func serverSpan(s otlptest.Span) bool { return s.Kind == "server" }
func postgresSpan(s otlptest.Span) bool {
	return s.Attrs["db.system.name"] == "postgresql" || s.Attrs["db.system"] == "postgresql"
}
func redisSpan(s otlptest.Span) bool {
	return s.Attrs["db.system.name"] == "redis" || s.Attrs["db.system"] == "redis"
}

// publishSpan is a publish that got the record out: one the relay retried leaves a failed span
// beside it.
func publishSpan(s otlptest.Span) bool {
	return s.Kind == "producer" && s.Attrs["messaging.system"] == "kafka" && s.StatusCode != "error"
}
func consumeSpan(s otlptest.Span) bool {
	return s.Kind == "consumer" && s.Attrs["messaging.system"] == "kafka"
}

func has(spans []otlptest.Span, is func(otlptest.Span) bool) bool {
	return slices.ContainsFunc(spans, is)
}

func filter(spans []otlptest.Span, is func(otlptest.Span) bool) []otlptest.Span {
	var out []otlptest.Span
	for _, s := range spans {
		if is(s) {
			out = append(out, s)
		}
	}
	return out
}

// only is the one span of a kind in a trace; more than one fails the test.
func only(t *testing.T, spans []otlptest.Span, is func(otlptest.Span) bool, what string) otlptest.Span {
	t.Helper()
	got := filter(spans, is)
	if len(got) != 1 {
		t.Fatalf("%d %s spans in the trace, want 1:\n%s", len(got), what, describe(spans))
	}
	return got[0]
}

// descends reports whether ancestor is s's parent, or its parent's, ... among spans.
func descends(spans []otlptest.Span, s otlptest.Span, ancestor string) bool {
	byID := map[string]otlptest.Span{}
	for _, sp := range spans {
		byID[sp.SpanID] = sp
	}
	for range len(spans) + 1 { // a cycle cannot loop forever
		if s.ParentSpanID == ancestor {
			return true
		}
		p, ok := byID[s.ParentSpanID]
		if !ok {
			return false
		}
		s = p
	}
	return false
}

// describe lists a trace's spans one a line, for failure messages.
func describe(spans []otlptest.Span) string {
	var b strings.Builder
	for _, s := range spans {
		fmt.Fprintf(&b, "  %s parent %-16s %-8s %q scope %s %v\n", s.SpanID, s.ParentSpanID, s.Kind, s.Name, s.Scope, s.Attrs)
	}
	return b.String()
}

// waitTrace waits up to 20 s for the spans of trace to satisfy done.
func waitTrace(t *testing.T, recv *otlptest.Receiver, trace, want string, done func([]otlptest.Span) bool) []otlptest.Span {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var tr []otlptest.Span
	_, err := recv.Wait(ctx, func(all []otlptest.Span) bool {
		tr = tr[:0]
		for _, s := range all {
			if s.TraceID == trace {
				tr = append(tr, s)
			}
		}
		return done(tr)
	})
	if err != nil {
		req, n := recv.Counts()
		t.Fatalf("trace %s: want %s within 20s; it has (of %d spans in %d exports):\n%s", trace, want, n, req, describe(tr))
	}
	return tr
}

// recordTraceparent reads the topic until the record keyed id is there and returns its
// traceparent header.
func recordTraceparent(t *testing.T, b *drillBroker, topic, id string) string {
	t.Helper()
	cmd := exec.Command(b.bin, "records", "-brokers", b.addr, "-topic", topic, "-want", "-", "-timeout", "20s")
	cmd.Stdin = strings.NewReader(id)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("reading %s back: %v\n%s", topic, err, stderr.String())
	}
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimRight(line, "\n"), "\t")
		if len(f) == 4 && f[0] == id {
			return f[3]
		}
	}
	t.Fatalf("no record keyed %s in:\n%s", id, out)
	return ""
}

// checkTraceLogs: every JSON line the service logged with key=value (the request's request_id,
// the event's item_id) carries trace's trace_id and a span_id, and there is at least one.
func checkTraceLogs(t *testing.T, logs, key, value, trace string) {
	t.Helper()
	n := 0
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil || line[key] != value {
			continue
		}
		n++
		if line["trace_id"] != trace || line["span_id"] == nil || line["span_id"] == "" {
			t.Errorf("a log line with %s %s lacks its trace (trace_id %s and a span_id): %s", key, value, trace, sc.Text())
		}
	}
	if n == 0 {
		t.Errorf("no log line with %s %s; logs:\n%s", key, value, tail(logs, 20))
	}
}

// checkExemplar: the latency histogram, scraped as OpenMetrics, carries the POST's trace id as
// an exemplar. /metrics is on the admin port (ADMIN_PORT) where the service has one, else on the
// public one.
func checkExemplar(t *testing.T, s *runningService, adminPort int, trace string) {
	t.Helper()
	var body string
	for _, base := range []string{fmt.Sprintf("http://127.0.0.1:%d", adminPort), s.URL} {
		req, _ := http.NewRequest("GET", base+"/metrics", nil)
		req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0; charset=utf-8")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			continue
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 {
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/openmetrics-text") {
				t.Errorf("/metrics asked for OpenMetrics answered %q", resp.Header.Get("Content-Type"))
			}
			body = string(data)
			break
		}
	}
	if body == "" {
		t.Errorf("no /metrics on the admin port %d nor on the public one", adminPort)
		return
	}
	for line := range strings.Lines(body) {
		if strings.Contains(line, `route="/v1/items"`) && strings.Contains(line, " # {") && strings.Contains(line, `trace_id="`+trace+`"`) {
			return
		}
	}
	t.Errorf("no exemplar with the POST's trace_id %s on a /v1/items series of /metrics:\n%s", trace, grepLines(body, "/v1/items"))
}

// grepLines is the lines of s that contain sub.
func grepLines(s, sub string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			b.WriteString(line)
		}
	}
	return b.String()
}
