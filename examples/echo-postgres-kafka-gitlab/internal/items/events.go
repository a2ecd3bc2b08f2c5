package items

import (
	"context"
	"time"

	"gitlab.com/acme/billing/internal/outbox"
)

// Types of the events every committed change stores in the outbox.
const (
	EventCreated = "item.created"
	EventUpdated = "item.updated"
	EventDeleted = "item.deleted"
)

// NewEvent returns the outbox event of a change: the item after it (as the API
// returns it) for item.created and item.updated; no data for item.deleted, whose
// version is the one the item would have had next. Repositories call it inside
// the change, so the event commits or rolls back with it. ctx is the change's
// context: when the service is traced, the event keeps its trace context, and
// publishing the event continues that trace.
func NewEvent(ctx context.Context, typ string, item Item, at time.Time) (outbox.Event, error) {
	var data any = item
	if typ == EventDeleted {
		data = nil
	}
	return outbox.New(typ, item.ID, item.Version, at, data)
}
