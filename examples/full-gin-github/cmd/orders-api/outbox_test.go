package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// callerTraceparent is the trace context of the caller of every request of
// TestEveryAcknowledgedWriteIsPublished: each event's record continues its trace.
const callerTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// TestEveryAcknowledgedWriteIsPublished runs the whole service against an
// in-process Kafka (kfake) and the test database: every write the API
// acknowledged reaches the topic as an event keyed by the item, in version order,
// with the envelope's headers — through the outbox, without any request waiting
// for the broker. Each record continues the trace of the request that made
// it (its traceparent header).
func TestEveryAcknowledgedWriteIsPublished(t *testing.T) {
	const topic = "outbox-test.items"
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	env := map[string]string{
		"PORT":                   "0",
		"ADMIN_PORT":             "0",
		"SHUTDOWN_DELAY":         "0s",
		"KAFKA_BROKERS":          strings.Join(cluster.ListenAddrs(), ","),
		"KAFKA_TOPIC":            topic,
		"KAFKA_CONSUMER_ENABLED": "false",
		// A schema of this test's own in the test database.
		"DATABASE_URL": testDatabaseURL(t),
		// Redis is away: reads bypass the cache, writes are unaffected.
		"REDIS_URL": "redis://127.0.0.1:1/0",
	}
	base, admin, stop := startService(t, env)
	client := &http.Client{Timeout: 5 * time.Second}
	send := func(method, path, body string, headers ...string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("traceparent", callerTraceparent)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		t.Cleanup(func() { _ = resp.Body.Close() })
		return resp
	}

	want := map[string][]string{} // item id → event types, in order
	var ids []string
	deadline := time.Now().Add(30 * time.Second)
	for len(ids) < 5 {
		resp := send(http.MethodPost, "/v1/items", fmt.Sprintf(`{"name":"Widget %d","price":100}`, len(ids)))
		if resp.StatusCode == http.StatusServiceUnavailable && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond) // migrations still running
			continue
		}
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST = %d", resp.StatusCode)
		}
		var item struct{ ID string }
		if err := json.NewDecoder(resp.Body).Decode(&item); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, item.ID)
		want[item.ID] = []string{"item.created"}
	}
	if resp := send(http.MethodPut, "/v1/items/"+ids[0], `{"name":"Gadget","price":1}`, "If-Match", `"1"`); resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT = %d", resp.StatusCode)
	}
	want[ids[0]] = append(want[ids[0]], "item.updated")
	if resp := send(http.MethodPut, "/v1/items/"+ids[0], `{"name":"Stale","price":1}`, "If-Match", `"1"`); resp.StatusCode != http.StatusPreconditionFailed {
		t.Fatalf("stale PUT = %d, want 412 (and no event)", resp.StatusCode)
	}
	if resp := send(http.MethodDelete, "/v1/items/"+ids[1], ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE = %d", resp.StatusCode)
	}
	want[ids[1]] = append(want[ids[1]], "item.deleted")
	if resp, err := client.Get(admin + "/metrics"); err != nil {
		t.Errorf("admin GET /metrics: %v", err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "outbox_publish_failures_total") {
			t.Errorf("admin GET /metrics = %d, lacks the outbox metrics", resp.StatusCode)
		}
	}

	got := readEvents(t, cluster.ListenAddrs(), topic, 7) // 5 creates, 1 update, 1 delete
	stop()
	for id, types := range want {
		if strings.Join(got[id], ",") != strings.Join(types, ",") {
			t.Errorf("item %s: events %v, want %v", id, got[id], types)
		}
	}
}

// TestWritesDoNotWaitForAHungBroker points the service at a broker that accepts
// connections and never answers: every write is still acknowledged at once (its
// event waits in the outbox), and shutdown is not held up by the relay.
func TestWritesDoNotWaitForAHungBroker(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			defer func() { _ = conn.Close() }()
			go func() { _, _ = io.Copy(io.Discard, conn) }() // read every request, answer none
		}
	}()
	env := map[string]string{
		"PORT":                   "0",
		"ADMIN_PORT":             "0",
		"SHUTDOWN_DELAY":         "0s",
		"KAFKA_BROKERS":          ln.Addr().String(),
		"KAFKA_PUBLISH_TIMEOUT":  "300ms",
		"KAFKA_CONSUMER_ENABLED": "false",
		"OUTBOX_POLL_INTERVAL":   "50ms",
		// A schema of this test's own in the test database.
		"DATABASE_URL": testDatabaseURL(t),
		// Redis is away: reads bypass the cache, writes are unaffected.
		"REDIS_URL": "redis://127.0.0.1:1/0",
	}
	base, _, stop := startService(t, env)
	client := &http.Client{Timeout: 5 * time.Second}
	created := 0
	deadline := time.Now().Add(30 * time.Second)
	for created < 30 {
		start := time.Now()
		resp, err := client.Post(base+"/v1/items", "application/json", strings.NewReader(`{"name":"Widget","price":1}`))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		took := time.Since(start)
		if resp.StatusCode == http.StatusServiceUnavailable && created == 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond) // migrations still running
			continue
		}
		if resp.StatusCode != http.StatusCreated || took > time.Second {
			t.Fatalf("POST %d with the broker hung = %d in %s, want 201 within 1s", created+1, resp.StatusCode, took)
		}
		created++
	}
	start := time.Now()
	stop()
	// The relay's last attempt is bounded by KAFKA_PUBLISH_TIMEOUT; the rest is closing clients.
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("shutdown took %s with the broker hung", took)
	}
}

// readEvents reads n records from topic and returns each key's event types in
// order, checking every record's envelope and headers on the way.
func readEvents(t *testing.T, brokers []string, topic string, n int) map[string][]string {
	t.Helper()
	reader, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got := map[string][]string{}
	versions := map[string]int64{}
	for seen := 0; seen < n; {
		fetches := reader.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d events in 20s: %v", seen, n, got)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			seen++
			var e struct {
				ID          string          `json:"id"`
				Type        string          `json:"type"`
				Key         string          `json:"item_id"`
				Version     int64           `json:"item_version"`
				Data        json.RawMessage `json:"data"`
				Traceparent *string         `json:"traceparent"`
			}
			if err := json.Unmarshal(r.Value, &e); err != nil {
				t.Errorf("record %q: %v", r.Value, err)
				return
			}
			headers := map[string]string{}
			for _, h := range r.Headers {
				headers[h.Key] = string(h.Value)
			}
			if string(r.Key) != e.Key || headers["event_id"] != e.ID || headers["event_type"] != e.Type || headers["content-type"] != "application/json" {
				t.Errorf("record key %q, headers %v do not match the event %s", r.Key, headers, r.Value)
			}
			if tp := headers["traceparent"]; len(tp) != len(callerTraceparent) || tp[:36] != callerTraceparent[:36] {
				t.Errorf("record of %s %s: traceparent %q, want one in the trace of the request, %s", e.Type, e.Key, tp, callerTraceparent[3:35])
			}
			if e.Version != versions[e.Key]+1 {
				t.Errorf("item %s: version %d after %d", e.Key, e.Version, versions[e.Key])
			}
			versions[e.Key] = e.Version
			got[e.Key] = append(got[e.Key], e.Type)
		})
	}
	return got
}

// startService runs the service with env until the test ends or stop is called,
// and returns its base URL and its admin server's.
func startService(t *testing.T, env map[string]string) (base, admin string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logR, logW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, func(k string) string { return env[k] }, logW)
		_ = logW.CloseWithError(io.EOF)
		done <- err
	}()
	addrc := map[string]chan string{"listening": make(chan string, 1), "admin listening": make(chan string, 1)}
	go func() {
		sc := bufio.NewScanner(logR)
		for sc.Scan() {
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &rec) == nil && addrc[rec.Msg] != nil {
				addrc[rec.Msg] <- rec.Addr
			}
		}
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run = %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("the service did not stop within 15s")
		}
	}
	t.Cleanup(stop)
	local := func(msg string) string {
		t.Helper()
		select {
		case addr := <-addrc[msg]:
			_, port, err := net.SplitHostPort(addr)
			if err != nil {
				t.Fatal(err)
			}
			return "http://127.0.0.1:" + port
		case err := <-done:
			t.Fatalf("run returned early: %v", err)
		case <-time.After(5 * time.Second):
			t.Fatalf("the service did not log %q", msg)
		}
		return ""
	}
	return local("listening"), local("admin listening"), stop
}
