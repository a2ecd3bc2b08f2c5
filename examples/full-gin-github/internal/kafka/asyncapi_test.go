package kafka

// api/asyncapi.yaml documents the events on the topic. This test keeps it honest:
// events published through the real Publisher are read back from the broker, and
// every record's value, headers and key must match the message the document
// describes for its type.

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.yaml.in/yaml/v4"

	"github.com/acme/orders-api/internal/breaker"
	"github.com/acme/orders-api/internal/outbox"
)

// asyncAPIPath is api/asyncapi.yaml, relative to this package's directory (where go test runs).
var asyncAPIPath = filepath.FromSlash("../../api/asyncapi.yaml")

// asyncAPIMessage is the part of a message of the document the test checks against.
type asyncAPIMessage struct {
	payload, headers *jsonschema.Schema
}

// loadAsyncAPI reads the document and compiles, for every message of its channels,
// the payload and headers schemas, by message name (the event type, or dead-letter).
func loadAsyncAPI(t *testing.T) map[string]asyncAPIMessage {
	t.Helper()
	raw, err := os.ReadFile(asyncAPIPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		AsyncAPI string `yaml:"asyncapi"`
		Channels map[string]struct {
			Address  string                       `yaml:"address"`
			Messages map[string]map[string]string `yaml:"messages"`
		} `yaml:"channels"`
		Components struct {
			Messages map[string]struct {
				Name        string `yaml:"name"`
				ContentType string `yaml:"contentType"`
			} `yaml:"messages"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", asyncAPIPath, err)
	}
	if doc.AsyncAPI != "3.0.0" {
		t.Fatalf("%s declares asyncapi %q, want 3.0.0", asyncAPIPath, doc.AsyncAPI)
	}

	// The whole document is one resource for the JSON Schema compiler, so that the
	// schemas' $refs to #/components/schemas/... resolve. AsyncAPI's schema format is
	// a superset of JSON Schema draft 7.
	var tree any
	if err := yaml.Unmarshal(raw, &tree); err != nil {
		t.Fatal(err)
	}
	asJSON, err := json.Marshal(tree)
	if err != nil {
		t.Fatalf("%s is not JSON-compatible YAML: %v", asyncAPIPath, err)
	}
	resource, err := jsonschema.UnmarshalJSON(bytes.NewReader(asJSON))
	if err != nil {
		t.Fatal(err)
	}
	const url = "file:///asyncapi.json"
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat() // uuid and date-time are checked, not only annotations
	if err := c.AddResource(url, resource); err != nil {
		t.Fatal(err)
	}

	out := map[string]asyncAPIMessage{}
	if doc.Channels["items"].Address != "orders-api.items" {
		t.Errorf("the items channel's address is %q, want KAFKA_TOPIC's default orders-api.items", doc.Channels["items"].Address)
	}
	for _, ch := range doc.Channels {
		for _, ref := range ch.Messages {
			const prefix = "#/components/messages/"
			if len(ref["$ref"]) <= len(prefix) || ref["$ref"][:len(prefix)] != prefix {
				t.Fatalf("channel message %v does not refer to a component message", ref)
			}
			name := ref["$ref"][len(prefix):]
			msg := doc.Components.Messages[name]
			if msg.ContentType != "application/json" && msg.Name != "dead-letter" {
				t.Errorf("message %s has content type %q, want application/json", name, msg.ContentType)
			}
			payload, err := c.Compile(url + prefix + name + "/payload")
			if err != nil {
				t.Fatalf("message %s payload: %v", name, err)
			}
			headers, err := c.Compile(url + prefix + name + "/headers")
			if err != nil {
				t.Fatalf("message %s headers: %v", name, err)
			}
			out[msg.Name] = asyncAPIMessage{payload: payload, headers: headers}
		}
	}
	for _, name := range []string{"item.created", "item.updated", "item.deleted", "dead-letter"} {
		if _, ok := out[name]; !ok {
			t.Fatalf("%s documents no message %s", asyncAPIPath, name)
		}
	}
	return out
}

func TestPublishedEventsMatchAsyncAPI(t *testing.T) {
	messages := loadAsyncAPI(t)
	cluster := newCluster(t)
	p := newPublisher(t, testConfig(cluster.ListenAddrs(), breaker.Settings{Failures: 3, OpenTimeout: time.Second}))
	traced := testEvent("item.updated", "I1", 2)
	traced.Traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	batch := []outbox.Event{testEvent("item.created", "I1", 1), traced, testEvent("item.deleted", "I1", 3)}
	if err := p.Send(context.Background(), batch); err != nil {
		t.Fatalf("Send: %v", err)
	}

	for _, r := range readRecords(t, cluster.ListenAddrs(), topic, len(batch)) {
		typ, _ := header(r, "event_type")
		msg, ok := messages[typ]
		if !ok {
			t.Errorf("record with event_type %q, which api/asyncapi.yaml does not document", typ)
			continue
		}
		value, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.Value))
		if err != nil {
			t.Errorf("%s record value is not JSON: %v", typ, err)
			continue
		}
		if err := msg.payload.Validate(value); err != nil {
			t.Errorf("%s record value %s does not match api/asyncapi.yaml: %v", typ, r.Value, err)
		}
		headers := headerMap(r)
		if err := msg.headers.Validate(headers); err != nil {
			t.Errorf("%s record headers %v do not match api/asyncapi.yaml: %v", typ, headers, err)
		}
		var envelope struct {
			ID     string `json:"id"`
			ItemID string `json:"item_id"`
		}
		_ = json.Unmarshal(r.Value, &envelope)
		if string(r.Key) != envelope.ItemID {
			t.Errorf("%s record key %q, want the item_id %q as documented", typ, r.Key, envelope.ItemID)
		}
		if headers["event_id"] != envelope.ID {
			t.Errorf("%s record event_id header %q, want the id %q", typ, headers["event_id"], envelope.ID)
		}
	}
}

// headerMap is r's headers as the JSON object the headers schemas describe.
func headerMap(r *kgo.Record) map[string]any {
	m := map[string]any{}
	for _, h := range r.Headers {
		m[h.Key] = string(h.Value)
	}
	return m
}

// TestAsyncAPIRejectsWhatItShould guards the guard: a document that accepted
// anything would make TestPublishedEventsMatchAsyncAPI pass vacuously.
func TestAsyncAPIRejectsWhatItShould(t *testing.T) {
	messages := loadAsyncAPI(t)
	good := testEvent("item.created", "I1", 1)
	for name, mutate := range map[string]func(e *outbox.Event){
		"id not a UUID":            func(e *outbox.Event) { e.ID = "42" },
		"type of another message":  func(e *outbox.Event) { e.Type = "item.deleted" },
		"no item_id":               func(e *outbox.Event) { e.Key = "" },
		"item_version 0":           func(e *outbox.Event) { e.Version = 0 },
		"data null for a creation": func(e *outbox.Event) { e.Data = json.RawMessage("null") },
		"data without the item":    func(e *outbox.Event) { e.Data = json.RawMessage(`{"name":"x"}`) },
	} {
		e := good
		mutate(&e)
		raw, _ := json.Marshal(e)
		value, _ := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err := messages["item.created"].payload.Validate(value); err == nil {
			t.Errorf("%s: the item.created schema accepted %s", name, raw)
		}
	}
	raw, _ := json.Marshal(good)
	value, _ := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err := messages["item.created"].payload.Validate(value); err != nil {
		t.Errorf("the item.created schema rejected a good event: %v", err)
	}
	if err := messages["item.created"].headers.Validate(map[string]any{"event_type": "item.created", "content-type": "application/json"}); err == nil {
		t.Error("the event headers schema accepted headers without event_id")
	}
	if err := messages["dead-letter"].headers.Validate(map[string]any{"dlq_attempts": "3", "dlq_topic": topic, "dlq_partition": "0", "dlq_offset": "7"}); err == nil {
		t.Error("the dead-letter headers schema accepted headers without dlq_error")
	}
}
