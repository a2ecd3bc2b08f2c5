package server

import (
	"encoding/binary"
	"math"
	"math/bits"
	"net/netip"
	"sync"
	"time"
)

// defaultLimiterClients is the capacity used when none is configured: each client
// costs about 100 bytes, so 100 000 of them stay around 10 MiB.
const defaultLimiterClients = 100_000

// ipLimiter is a token bucket per client (see clientKey) in a fixed number of
// buckets. It is split into shards, each with its own lock and its own
// least-recently-used list, so concurrent requests rarely wait for each other and no
// request ever walks the whole table. When a shard is full, the client it has heard
// from least recently is forgotten to make room: that client starts again with a
// full bucket when it comes back. Memory is bounded by the capacity however many
// addresses send requests; an idle client whose bucket is full again loses nothing
// by being evicted, and clients that are actively limited are the recently used ones.
type ipLimiter struct {
	rate   float64 // tokens per second
	burst  float64
	now    func() time.Time
	epoch  time.Time // buckets note times as offsets from it, keeping them pointer-free
	shards []limiterShard
	shift  uint // a key's hash >> shift is its shard
}

// limiterShard is one lock's worth of buckets: a map from key to slot, and the slots
// in a doubly linked list, most recently used first. Slots are allocated up to the
// shard's capacity and then reused, so a full shard allocates nothing. Neither the
// map nor the slots hold pointers, so the garbage collector never scans them.
type limiterShard struct {
	mu    sync.Mutex
	index map[[16]byte]int32
	slots []bucket
	head  int32 // most recently used, -1 when empty
	tail  int32 // least recently used, the next to go
	cap   int
}

type bucket struct {
	key        [16]byte // the client's address (IPv4 in its IPv6-mapped form)
	tokens     float64
	at         time.Duration // since epoch, when tokens was last brought up to date
	prev, next int32
}

// newIPLimiter returns nil (no limiting) when rps is 0. capacity bounds how many
// clients are remembered (defaultLimiterClients when 0 or less).
func newIPLimiter(rps float64, burst, capacity int) *ipLimiter {
	if rps <= 0 || burst < 1 {
		return nil
	}
	if capacity <= 0 {
		capacity = defaultLimiterClients
	}
	// About 1024 clients per shard, at most 64 shards: enough to spread the lock on
	// two or more cores; a small capacity keeps one shard and so an exact LRU.
	n := 1
	for n < 64 && n*2*1024 <= capacity {
		n *= 2
	}
	l := &ipLimiter{
		rate:   rps,
		burst:  float64(burst),
		now:    time.Now,
		epoch:  time.Now(),
		shards: make([]limiterShard, n),
		shift:  uint(64 - bits.TrailingZeros(uint(n))),
	}
	for i := range l.shards {
		per := capacity / n
		if i < capacity%n {
			per++
		}
		l.shards[i] = limiterShard{index: make(map[[16]byte]int32), head: -1, tail: -1, cap: per}
	}
	return l
}

// allow takes a token from key's bucket. When there is none it returns false and
// how long until one is back.
func (l *ipLimiter) allow(key netip.Addr) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	now := l.now().Sub(l.epoch)
	k := key.As16()
	s := &l.shards[l.shard(k)]
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.get(k, now, l.burst)
	b.tokens = min(l.burst, b.tokens+(now-b.at).Seconds()*l.rate)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// shard picks key's shard from a multiplicative hash of its 16 bytes.
func (l *ipLimiter) shard(key [16]byte) uint64 {
	if l.shift == 64 {
		return 0
	}
	h := binary.LittleEndian.Uint64(key[:8]) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(key[8:]), 31)
	return (h * 0x9e3779b97f4a7c15) >> l.shift
}

// get returns key's bucket, moved to the front of the list; a new client gets a full
// bucket, in a new slot or in the least recently used one's.
func (s *limiterShard) get(key [16]byte, now time.Duration, burst float64) *bucket {
	if i, ok := s.index[key]; ok {
		s.moveToFront(i)
		return &s.slots[i]
	}
	var i int32
	if n := len(s.slots); n < s.cap {
		if n == cap(s.slots) { // grow by doubling, but never past the capacity (append would)
			grown := make([]bucket, n, min(s.cap, max(16, 2*n)))
			copy(grown, s.slots)
			s.slots = grown
		}
		i = int32(n) //nolint:gosec // G115: a shard's capacity is far below 2^31
		s.slots = s.slots[:n+1]
	} else {
		i = s.tail
		delete(s.index, s.slots[i].key)
		s.unlink(i)
	}
	s.slots[i] = bucket{key: key, tokens: burst, at: now, prev: -1, next: -1}
	s.index[key] = i
	s.pushFront(i)
	return &s.slots[i]
}

func (s *limiterShard) moveToFront(i int32) {
	if s.head == i {
		return
	}
	s.unlink(i)
	s.pushFront(i)
}

func (s *limiterShard) unlink(i int32) {
	b := &s.slots[i]
	if b.prev >= 0 {
		s.slots[b.prev].next = b.next
	} else {
		s.head = b.next
	}
	if b.next >= 0 {
		s.slots[b.next].prev = b.prev
	} else {
		s.tail = b.prev
	}
	b.prev, b.next = -1, -1
}

func (s *limiterShard) pushFront(i int32) {
	b := &s.slots[i]
	b.prev, b.next = -1, s.head
	if s.head >= 0 {
		s.slots[s.head].prev = i
	}
	s.head = i
	if s.tail < 0 {
		s.tail = i
	}
}

// clients reports how many clients the limiter remembers.
func (l *ipLimiter) clients() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.index)
		s.mu.Unlock()
	}
	return n
}

// retryAfterSeconds is wait in whole seconds, rounded up, at least 1: Retry-After
// takes only whole seconds, and 0 would invite an immediate retry.
func retryAfterSeconds(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Seconds())))
}
