// Package outbox delivers the service's events to the broker without putting the
// broker on any request path: a write stores its event next to the change (in the
// same database transaction, or in an in-memory queue when the service has no
// database), and the Relay publishes the stored events in the background, in
// order per item, at least once.
package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Event is the envelope of every event the service publishes (documented in api/asyncapi.yaml).
type Event struct {
	ID          string          `json:"id"`           // UUIDv7, unique per event: consumers deduplicate on it
	Type        string          `json:"type"`         // item.created | item.updated | item.deleted
	Key         string          `json:"item_id"`      // the item's ID; the record key, so one item's events stay in order
	Version     int64           `json:"item_version"` // the item's version after the change
	Time        time.Time       `json:"time"`         // commit time, UTC
	Traceparent string          `json:"-"`            // W3C trace context of the request; carried as a record header
	Data        json.RawMessage `json:"data"`         // the item after the change (the API's JSON); null for item.deleted
}

// Sender publishes a batch of events to the broker, in order. It returns by ctx's deadline even
// when the broker hangs (accepts TCP and never answers), and returns nil only when every event of
// the batch was acknowledged. A failed batch is sent again later (at-least-once).
type Sender interface {
	Send(ctx context.Context, batch []Event) error
}

// New returns the event of one change: a fresh UUIDv7 (time-ordered, so IDs also
// sort roughly by creation), the time in UTC and data as JSON (nil gives null).
func New(typ, key string, version int64, at time.Time, data any) (Event, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return Event{}, fmt.Errorf("outbox: event id: %w", err)
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return Event{}, fmt.Errorf("outbox: encode %s of %s: %w", typ, key, err)
	}
	return Event{ID: id.String(), Type: typ, Key: key, Version: version, Time: at.UTC(), Data: raw}, nil
}
