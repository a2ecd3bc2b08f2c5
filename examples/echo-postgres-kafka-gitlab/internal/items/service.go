package items

import (
	"context"
	"crypto/rand"
	"fmt"
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

// DefaultIdempotencyTTL is how long an idempotency key is remembered by default.
const DefaultIdempotencyTTL = 24 * time.Hour

// Service holds the item use cases: it validates input, assigns IDs, timestamps
// and idempotency expiry, and calls the Repository. Events of the changes are the
// Repository's business: it stores them with the change, in the same transaction.
type Service struct {
	repo           Repository
	now            func() time.Time
	idempotencyTTL time.Duration
}

// ServiceOption configures a Service.
type ServiceOption func(*Service)

// WithIdempotencyTTL sets how long an idempotency key is remembered (default 24h).
func WithIdempotencyTTL(ttl time.Duration) ServiceOption {
	return func(s *Service) {
		if ttl > 0 {
			s.idempotencyTTL = ttl
		}
	}
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) ServiceOption {
	return func(s *Service) { s.now = now }
}

// NewService returns a Service over repo.
func NewService(repo Repository, opts ...ServiceOption) *Service {
	s := &Service{repo: repo, now: time.Now, idempotencyTTL: DefaultIdempotencyTTL}
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

// Create validates in and stores a new item with a fresh random ID. With an
// idempotency key (idem.Key not empty) a retry of the same request returns the item
// the first one created, with replayed = true; see Repository.Create.
func (s *Service) Create(ctx context.Context, in Input, idem Idempotency) (item Item, replayed bool, err error) {
	in = in.Normalize()
	if err := in.Validate(); err != nil {
		return Item{}, false, err
	}
	now := s.timestamp()
	// rand.Text gives 26 base32 characters (130 random bits): unguessable, URL-safe,
	// and collision-free in practice without coordination between replicas.
	item = Item{ID: rand.Text(), Name: in.Name, Price: in.Price, CreatedAt: now, UpdatedAt: now, Version: 1}
	idem.TTL = s.idempotencyTTL
	item, replayed, err = s.repo.Create(ctx, item, idem)
	if err != nil {
		return Item{}, false, fmt.Errorf("create item: %w", err)
	}
	return item, replayed, nil
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

// Update validates in and replaces the name and price of the item with the given
// ID, if its version is ifVersion (or whatever it is, with AnyVersion).
func (s *Service) Update(ctx context.Context, id string, in Input, ifVersion int64) (Item, error) {
	in = in.Normalize()
	if err := in.Validate(); err != nil {
		return Item{}, err
	}
	item, err := s.repo.Update(ctx, Item{ID: id, Name: in.Name, Price: in.Price, UpdatedAt: s.timestamp()}, ifVersion)
	if err != nil {
		return Item{}, fmt.Errorf("update item %q: %w", id, err)
	}
	return item, nil
}

// Delete removes the item with the given ID, if its version is ifVersion (or
// whatever it is, with AnyVersion).
func (s *Service) Delete(ctx context.Context, id string, ifVersion int64) error {
	if err := s.repo.Delete(ctx, id, ifVersion); err != nil {
		return fmt.Errorf("delete item %q: %w", id, err)
	}
	return nil
}
