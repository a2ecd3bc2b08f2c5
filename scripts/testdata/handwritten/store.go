// The work the hand-written servers of scripts/bench-service.sh do, the same for every
// framework: the Redis GET of a cached item and the INSERT of a new one (with its outbox
// row, in one transaction, as the generated service stores it when it has events). What a
// team would write by hand for the same round trips, and nothing else: no logging, metrics,
// breakers, timeouts or retries. Copied next to each framework's main.go into a temporary
// module whose go.mod is the generated service's, so every library version is the same.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// itemSchema starts every item the generated service caches (internal/cache/items.go).
const itemSchema = "item.v1:"

// item is the generated service's items.Item as JSON.
type item struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Price     int64     `json:"price"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

// itemRequest is the body of POST /v1/items; pointers tell a missing field from zero.
type itemRequest struct {
	Name  *string `json:"name"`
	Price *int64  `json:"price"`
}

var errInvalid = errors.New("invalid item")

// store holds the connections: the pgx pool sized as the service's (DB_MAX_CONNS, default
// 10) and a Redis client with go-redis's defaults, as the service's.
type store struct {
	db        *pgxpool.Pool
	rdb       *redis.Client
	keyPrefix string
	events    bool
}

func openStore() *store {
	pc, err := pgxpool.ParseConfig(os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	pc.MaxConns = 10
	if n, err := strconv.Atoi(os.Getenv("DB_MAX_CONNS")); err == nil {
		pc.MaxConns = int32(n)
	}
	db, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		log.Fatal(err)
	}
	ropts, err := redis.ParseURL(os.Getenv("REDIS_URL"))
	if err != nil {
		log.Fatal(err)
	}
	return &store{db: db, rdb: redis.NewClient(ropts), keyPrefix: os.Getenv("REDIS_KEY_PREFIX"), events: os.Getenv("EVENTS") == "1"}
}

// cached returns the cached JSON of item id (redis.Nil when it is not cached).
func (s *store) cached(ctx context.Context, id string) ([]byte, error) {
	raw, err := s.rdb.Get(ctx, s.keyPrefix+"items:"+id).Bytes()
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(raw, []byte(itemSchema)) {
		return nil, redis.Nil
	}
	return raw[len(itemSchema):], nil
}

// decode reads and validates the body of POST /v1/items.
func decode(r *http.Request) (item, error) {
	var req itemRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || req.Name == nil || req.Price == nil {
		return item{}, errInvalid
	}
	name := strings.TrimSpace(*req.Name)
	if n := utf8.RuneCountInString(name); n == 0 || n > 200 || strings.IndexFunc(name, unicode.IsControl) >= 0 || *req.Price < 0 {
		return item{}, errInvalid
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	return item{ID: rand.Text(), Name: name, Price: *req.Price, CreatedAt: now, UpdatedAt: now, Version: 1}, nil
}

// create inserts it, and its item.created outbox row when events are on, and returns its
// JSON. The statements go as one batch, in one round trip and one implicit transaction, as
// the generated service sends a create.
func (s *store) create(ctx context.Context, it item) ([]byte, error) {
	body, err := json.Marshal(it)
	if err != nil {
		return nil, err
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO items (id, name, price, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6)`,
		it.ID, it.Name, it.Price, it.CreatedAt, it.UpdatedAt, it.Version)
	if s.events {
		id, err := uuid.NewV7()
		if err != nil {
			return nil, err
		}
		b.Queue(`INSERT INTO outbox (event_id, event_type, item_id, item_version, occurred_at, traceparent, data)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, id.String(), "item.created", it.ID, it.Version, it.UpdatedAt, "", json.RawMessage(body))
	}
	return body, s.db.SendBatch(ctx, b).Close()
}

// server is the http.Server of every hand-written server: the generated service's default
// timeouts (server configuration, not middleware).
func server(h http.Handler) *http.Server {
	return &http.Server{
		Addr:              ":" + os.Getenv("PORT"),
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
}

// healthBody is the generated service's liveness answer.
var healthBody = []byte(`{"status":"pass"}`)

// getItem and createItem are the net/http handlers of the routers without a context
// type of their own (ServeMux, chi).
func getItem(s *store, w http.ResponseWriter, r *http.Request, id string) {
	body, err := s.cached(r.Context(), id)
	if err != nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

func createItem(s *store, w http.ResponseWriter, r *http.Request) {
	it, err := decode(r)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	body, err := s.create(r.Context(), it)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Location", "/v1/items/"+it.ID)
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(body)
}
