// Package broker is the Kafka of the drills and of svcgen's event e2e test: one loopback port that
// first behaves as a hung broker (it accepts TCP connections and never answers a byte) and then,
// on demand, becomes a real one (kfake, franz-go's in-process cluster speaking the Kafka protocol)
// on the same port, so a running service sees its broker hang and come back without being told.
//
// kfake lives in this process: whoever owns a Broker must outlive the service that uses it.
package broker

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Broker is one port that is hung until Serve makes it a real Kafka.
type Broker struct {
	port int

	mu      sync.Mutex
	ln      net.Listener // the hung listener; nil once serving
	conns   []net.Conn   // connections accepted and never answered
	cluster *kfake.Cluster
	closed  bool
	swallow atomic.Bool // the cluster reads Produce requests and never answers them

	producedMu sync.Mutex
	produced   Produced
}

// Produced counts the records of the Produce requests the broker answered since ResetProduced,
// with the arrival times of the first and the last request: the producers' throughput, seen
// from the broker.
type Produced struct {
	Records     int
	First, Last time.Time
}

// Hang listens on 127.0.0.1:port (0 picks a free port) and holds every connection it accepts
// without reading or writing: a broker that is partitioned or stuck, not one that refuses.
func Hang(port int) (*Broker, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return nil, fmt.Errorf("hung broker: %w", err)
	}
	b := &Broker{port: ln.Addr().(*net.TCPAddr).Port, ln: ln}
	go b.accept(ln)
	return b, nil
}

func (b *Broker) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return // closed by Serve or Close
		}
		b.mu.Lock()
		if b.ln != ln {
			b.mu.Unlock()
			c.Close()
			return
		}
		b.conns = append(b.conns, c)
		b.mu.Unlock()
	}
}

// Addr is the broker's host:port, the value for KAFKA_BROKERS.
func (b *Broker) Addr() string { return "127.0.0.1:" + strconv.Itoa(b.port) }

// Hung reports how many connections the hung listener has accepted and is holding.
func (b *Broker) Hung() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.conns)
}

// Serve closes the hung listener and every connection it holds (clients see a reset and dial
// again) and starts a one-broker kfake cluster on the same port; topics are created on first use.
func (b *Broker) Serve(opts ...kfake.Opt) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errors.New("broker closed")
	}
	if b.cluster != nil {
		return nil
	}
	b.dropHung()
	c, err := kfake.NewCluster(append([]kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(b.port),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(3),
	}, opts...)...)
	if err != nil {
		return fmt.Errorf("kfake on port %d: %w", b.port, err)
	}
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if b.swallow.Load() {
			// Handled with neither a response nor an error: kfake answers nothing and reads on.
			return nil, nil, true
		}
		b.count(req.(*kmsg.ProduceRequest))
		return nil, nil, false // kfake handles it
	})
	b.cluster = c
	return nil
}

// count adds the records of req to the produced tally.
func (b *Broker) count(req *kmsg.ProduceRequest) {
	n := 0
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			for batches := p.Records; len(batches) >= 12; {
				var rb kmsg.RecordBatch
				if rb.ReadFrom(batches) != nil {
					break
				}
				n += int(rb.NumRecords)
				batches = batches[min(len(batches), 12+int(rb.Length)):] // FirstOffset and Length precede Length's bytes
			}
		}
	}
	now := time.Now()
	b.producedMu.Lock()
	defer b.producedMu.Unlock()
	if b.produced.Records == 0 {
		b.produced.First = now
	}
	b.produced.Records += n
	b.produced.Last = now
}

// Produced reports what was produced since the last ResetProduced.
func (b *Broker) Produced() Produced {
	b.producedMu.Lock()
	defer b.producedMu.Unlock()
	return b.produced
}

// ResetProduced starts the tally again.
func (b *Broker) ResetProduced() {
	b.producedMu.Lock()
	defer b.producedMu.Unlock()
	b.produced = Produced{}
}

// SwallowProduce makes the real broker answer everything but Produce (on), which it reads and
// never answers, or answer Produce again (off). Requests swallowed stay unanswered: a client
// must give up on them itself.
func (b *Broker) SwallowProduce(on bool) { b.swallow.Store(on) }

// dropHung closes the hung listener and its connections; b.mu is held.
func (b *Broker) dropHung() {
	if b.ln != nil {
		b.ln.Close()
		b.ln = nil
	}
	for _, c := range b.conns {
		c.Close()
	}
	b.conns = nil
}

// Close stops whichever of the two is running.
func (b *Broker) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	b.dropHung()
	if b.cluster != nil {
		b.cluster.Close()
		b.cluster = nil
	}
}

// Serving reports whether the port is a real Kafka now.
func (b *Broker) Serving() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cluster != nil
}
