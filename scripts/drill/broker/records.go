package broker

import (
	"context"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Record is what the drills check of one record on the events topic: its key (the item's id
// under the event contract), the event id and type headers, and the W3C traceparent header a
// service with tracing adds (empty without).
type Record struct {
	Key, EventID, EventType string
	Traceparent             string
	Partition               int32
	Offset                  int64
}

// Read consumes topic at addr from the start, as a plain reader (no group, so nothing it does
// moves the service's own offsets). It returns when every key in want has been read, or, when
// want is empty, when a second passes with nothing new; or when ctx ends (with ctx's error and
// the records read so far).
func Read(ctx context.Context, addr, topic string, want []string) ([]Record, error) {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addr),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200*time.Millisecond),
	)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	missing := map[string]bool{}
	for _, k := range want {
		missing[k] = true
	}
	var recs []Record
	for {
		pollCtx, cancel := context.WithTimeout(ctx, time.Second)
		fetches := cl.PollFetches(pollCtx)
		idle := pollCtx.Err() != nil
		cancel()
		n := 0
		fetches.EachRecord(func(r *kgo.Record) {
			n++
			rec := Record{Key: string(r.Key), Partition: r.Partition, Offset: r.Offset}
			for _, h := range r.Headers {
				switch h.Key {
				case "event_id":
					rec.EventID = string(h.Value)
				case "event_type":
					rec.EventType = string(h.Value)
				case "traceparent":
					rec.Traceparent = string(h.Value)
				}
			}
			recs = append(recs, rec)
			delete(missing, rec.Key)
		})
		switch {
		case ctx.Err() != nil:
			return recs, ctx.Err()
		case len(want) > 0 && len(missing) == 0:
			return recs, nil
		case len(want) == 0 && n == 0 && idle:
			return recs, nil
		}
	}
}

// Missing lists the keys of want that no record carries, in want's order.
func Missing(recs []Record, want []string) []string {
	have := make(map[string]bool, len(recs))
	for _, r := range recs {
		have[r.Key] = true
	}
	var out []string
	for _, k := range want {
		if !have[k] && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}
