package kafka

import "container/list"

// recentIDs remembers the ids of the last events the consumer finished with, so
// that a redelivered event (the outbox delivers at least once, and a batch that
// timed out may have been written anyway) is dropped instead of handled twice.
//
// It lives in memory and is bounded: after a restart or a rebalance, or for
// duplicates further apart than its size, the handler sees the event again. A
// durable dedupe needs a table of handled event ids, written in the same
// transaction as the handler's own changes.
type recentIDs struct {
	size  int
	order *list.List // of string, most recent first
	ids   map[string]*list.Element
}

func newRecentIDs(size int) *recentIDs {
	return &recentIDs{size: size, order: list.New(), ids: make(map[string]*list.Element, size)}
}

// contains reports whether id was added and not yet evicted, and marks it recent.
func (r *recentIDs) contains(id string) bool {
	el, ok := r.ids[id]
	if ok {
		r.order.MoveToFront(el)
	}
	return ok
}

// add remembers id, forgetting the least recent id when full.
func (r *recentIDs) add(id string) {
	if r.contains(id) {
		return
	}
	r.ids[id] = r.order.PushFront(id)
	if r.order.Len() > r.size {
		oldest := r.order.Back()
		r.order.Remove(oldest)
		delete(r.ids, oldest.Value.(string))
	}
}
