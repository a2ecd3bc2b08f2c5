package cache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acme/catalog/internal/items"
)

// pausingRepo is a repository whose Get can be held after it has read the row:
// the moment at which a concurrent write slips in before the reader fills the cache.
type pausingRepo struct {
	items.Repository
	hold atomic.Pointer[getHold]
}

type getHold struct {
	read    chan struct{} // closed when the held Get has read the row
	release chan struct{} // closed to let it return
}

// holdNextGet makes the next Get read the row, close read, and wait for release
// before returning it.
func (r *pausingRepo) holdNextGet() (read <-chan struct{}, release func()) {
	h := &getHold{read: make(chan struct{}), release: make(chan struct{})}
	r.hold.Store(h)
	return h.read, sync.OnceFunc(func() { close(h.release) })
}

func (r *pausingRepo) Get(ctx context.Context, id string) (items.Item, error) {
	item, err := r.Repository.Get(ctx, id)
	if h := r.hold.Swap(nil); h != nil {
		close(h.read)
		<-h.release
	}
	return item, err
}

// TestFillRacingAWriteDoesNotCacheTheOldRow is the race of cache-aside: a reader
// misses and reads the row; a writer changes the row and invalidates the entry;
// only then does the reader store what it read. The cache must not serve the old
// row afterwards.
func TestFillRacingAWriteDoesNotCacheTheOldRow(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(ctx context.Context, r items.Repository) error
		check func(t *testing.T, got items.Item, err error)
	}{
		{
			name: "update",
			write: func(ctx context.Context, r items.Repository) error {
				return update(ctx, r, items.Item{ID: "R1", Name: "New", Price: 200, UpdatedAt: time.Now().UTC()})
			},
			check: func(t *testing.T, got items.Item, err error) {
				if err != nil || got.Name != "New" {
					t.Errorf("Get after the update = %+v, %v; want the new row", got, err)
				}
			},
		},
		{
			name:  "delete",
			write: func(ctx context.Context, r items.Repository) error { return remove(ctx, r, "R1") },
			check: func(t *testing.T, got items.Item, err error) {
				if !errors.Is(err, items.ErrNotFound) {
					t.Errorf("Get after the delete = %+v, %v; want ErrNotFound", got, err)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := openRedis(t)
			ctx := context.Background()
			repo := &pausingRepo{Repository: items.NewMemoryRepository()}
			seed(t, repo.Repository, "R1", "Old")
			cached := c.Items(repo)

			read, release := repo.holdNextGet()
			defer release()
			reader := make(chan error, 1)
			go func() {
				got, err := cached.Get(ctx, "R1")
				if err == nil && got.Name != "Old" {
					err = fmt.Errorf("racing Get = %+v, want the old row it read", got)
				}
				reader <- err
			}()
			select {
			case <-read:
			case <-time.After(10 * time.Second):
				t.Fatal("the reader never reached the repository")
			}
			if err := tc.write(ctx, cached); err != nil {
				t.Fatal(err)
			}
			release()
			if err := <-reader; err != nil {
				t.Fatal(err)
			}
			for range 2 { // the first may fill, the second must then hit the new state
				got, err := cached.Get(ctx, "R1")
				tc.check(t, got, err)
			}
		})
	}
}

// jitterRepo sleeps a little after reading, to widen the window between a cache
// miss's read and its fill in which writes land.
type jitterRepo struct{ items.Repository }

func (r jitterRepo) Get(ctx context.Context, id string) (items.Item, error) {
	item, err := r.Repository.Get(ctx, id)
	time.Sleep(time.Duration(mrand.IntN(500)) * time.Microsecond)
	return item, err
}

// TestConcurrentReadsAndWritesLeaveTheCacheConsistent mixes reads, updates,
// deletes and re-creations of a few items from many goroutines; once they stop,
// every read through the cache must equal the repository's row.
func TestConcurrentReadsAndWritesLeaveTheCacheConsistent(t *testing.T) {
	c := openRedis(t)
	ctx := context.Background()
	mem := items.NewMemoryRepository()
	cached := c.Items(jitterRepo{mem})
	ids := []string{"S1", "S2", "S3"}
	var seq atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 150 {
				id := ids[mrand.IntN(len(ids))]
				var err error
				switch mrand.IntN(5) {
				case 0:
					// Fails while the item exists; the point is to bring deleted items back.
					_ = create(ctx, cached, newItem(id, fmt.Sprint("created ", seq.Add(1))))
				case 1:
					err = update(ctx, cached, items.Item{ID: id, Name: fmt.Sprint("updated ", seq.Add(1)), Price: 1, UpdatedAt: time.Now().UTC()})
				case 2:
					err = remove(ctx, cached, id)
				default:
					_, err = cached.Get(ctx, id)
				}
				if err != nil && !errors.Is(err, items.ErrNotFound) {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()

	for _, id := range ids {
		want, wantErr := mem.Get(ctx, id)
		for range 2 { // a miss, then a hit
			got, err := cached.Get(ctx, id)
			if !errors.Is(err, wantErr) || !sameJSON(t, got, want) {
				t.Errorf("Get(%s) through the cache = %+v, %v; the repository has %+v, %v", id, got, err, want, wantErr)
			}
		}
	}
}

// sameJSON compares items by their JSON, which is what the cache keeps.
func sameJSON(t *testing.T, a, b items.Item) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(ja) == string(jb)
}
