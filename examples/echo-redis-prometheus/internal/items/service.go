package items

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"time"
)

// Page sizes for List.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// Page is one page of a listing. Next is the cursor for the following page, empty on
// the last one.
type Page struct {
	Items []Item
	Next  string
}

// Service holds the item use cases: it validates input, assigns IDs and timestamps,
// calls the Repository and announces changes through the Publisher.
type Service struct {
	repo      Repository
	publisher Publisher
	logger    *slog.Logger
	now       func() time.Time
}

// ServiceOption configures a Service.
type ServiceOption func(*Service)

// WithPublisher makes the Service publish an Event after every successful write.
// Without it (or with nil) no events are sent.
func WithPublisher(p Publisher) ServiceOption {
	return func(s *Service) { s.publisher = p }
}

// WithLogger sets the logger for failures that do not fail the request, such as an
// event that could not be published.
func WithLogger(l *slog.Logger) ServiceOption {
	return func(s *Service) {
		if l != nil {
			s.logger = l
		}
	}
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) ServiceOption {
	return func(s *Service) { s.now = now }
}

// NewService returns a Service over repo.
func NewService(repo Repository, opts ...ServiceOption) *Service {
	s := &Service{repo: repo, logger: slog.New(slog.DiscardHandler), now: time.Now}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// timestamp is the current time as stored: UTC, at microsecond precision, which is
// what SQL databases keep, so an item reads back exactly as it was returned.
func (s *Service) timestamp() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}

// Create validates in and stores a new item with a fresh random ID.
func (s *Service) Create(ctx context.Context, in Input) (Item, error) {
	in = in.Normalize()
	if err := in.Validate(); err != nil {
		return Item{}, err
	}
	now := s.timestamp()
	// rand.Text gives 26 base32 characters (130 random bits): unguessable, URL-safe,
	// and collision-free in practice without coordination between replicas.
	item := Item{ID: rand.Text(), Name: in.Name, Price: in.Price, CreatedAt: now, UpdatedAt: now}
	if err := s.repo.Create(ctx, item); err != nil {
		return Item{}, fmt.Errorf("create item: %w", err)
	}
	s.publish(ctx, EventCreated, item)
	return item, nil
}

// Get returns the item with the given ID.
func (s *Service) Get(ctx context.Context, id string) (Item, error) {
	item, err := s.repo.Get(ctx, id)
	if err != nil {
		return Item{}, fmt.Errorf("get item %q: %w", id, err)
	}
	return item, nil
}

// List returns up to limit items after the cursor after ("" for the first page).
func (s *Service) List(ctx context.Context, after string, limit int) (Page, error) {
	if limit < 1 || limit > MaxPageSize {
		return Page{}, NewValidationError(FieldError{Field: "limit", Detail: fmt.Sprintf("must be between 1 and %d", MaxPageSize)})
	}
	// One extra item tells whether another page follows without a count query.
	got, err := s.repo.List(ctx, after, limit+1)
	if err != nil {
		return Page{}, fmt.Errorf("list items: %w", err)
	}
	page := Page{Items: got}
	if len(got) > limit {
		page.Items = got[:limit]
		page.Next = page.Items[limit-1].ID
	}
	return page, nil
}

// Update validates in and replaces the name and price of the item with the given ID.
func (s *Service) Update(ctx context.Context, id string, in Input) (Item, error) {
	in = in.Normalize()
	if err := in.Validate(); err != nil {
		return Item{}, err
	}
	item, err := s.repo.Update(ctx, Item{ID: id, Name: in.Name, Price: in.Price, UpdatedAt: s.timestamp()})
	if err != nil {
		return Item{}, fmt.Errorf("update item %q: %w", id, err)
	}
	s.publish(ctx, EventUpdated, item)
	return item, nil
}

// Delete removes the item with the given ID.
func (s *Service) Delete(ctx context.Context, id string) error {
	if err := s.repo.Delete(ctx, id); err != nil {
		return fmt.Errorf("delete item %q: %w", id, err)
	}
	s.publish(ctx, EventDeleted, Item{ID: id})
	return nil
}

// publish announces a committed write. A failure is logged, not returned: the write
// has happened, and failing the request would make the client retry a write that
// succeeded. Where every event must arrive, use a transactional outbox instead.
func (s *Service) publish(ctx context.Context, typ EventType, item Item) {
	if s.publisher == nil {
		return
	}
	ev := Event{Type: typ, Item: item, At: s.timestamp()}
	if err := s.publisher.Publish(ctx, ev); err != nil {
		s.logger.ErrorContext(ctx, "publish item event", "event", string(typ), "item_id", item.ID, "error", err)
	}
}
