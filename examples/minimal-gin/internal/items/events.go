package items

import (
	"context"
	"time"
)

// EventType names a change to an item.
type EventType string

// Event types published after each successful write.
const (
	EventCreated EventType = "item.created"
	EventUpdated EventType = "item.updated"
	EventDeleted EventType = "item.deleted"
)

// Event tells other systems that an item changed. For deletions Item carries only the ID.
type Event struct {
	Type EventType `json:"type"`
	Item Item      `json:"item"`
	At   time.Time `json:"at"`
}

// Publisher sends events to other systems, e.g. a message broker.
type Publisher interface {
	Publish(ctx context.Context, event Event) error
}
