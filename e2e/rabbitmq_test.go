package e2e

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/svcgen/svcgen/generator"
)

// TestRabbitMQService is issue M's "Done when" for --broker rabbitmq, on a generated
// gin+postgres+rabbitmq+prometheus service:
//   - it builds and vets, and its own tests pass with -race and CI=true against the real
//     PostgreSQL and RabbitMQ, none skipped;
//   - run as a binary against them, it serves CRUD, `outbox_pending_events` drains to 0, and the
//     item's events are in its queue, in order, persistent, with the envelope's properties;
//   - pointed at a broker that accepts TCP and never answers, it still answers every write at
//     once and shuts down in time.
//
// The queue is read by a small AMQP client built here (amqpPeek), so svcgen's own go.mod needs
// no AMQP module.
func TestRabbitMQService(t *testing.T) {
	amqpURL := os.Getenv("AMQP_URL")
	if amqpURL == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but AMQP_URL is not set: start the servers with scripts/services.sh")
		}
		t.Skip("rabbitmq: AMQP_URL is not set; start the servers with scripts/services.sh")
	}
	l := generateLive(t, "rabbitmq", "rabbit-svc", "--framework", "gin", "--database", "postgres",
		"--cache", "none", "--broker", "rabbitmq", "--metrics", "prometheus")
	stage := stager(t)
	peek := buildAMQPPeek(t)
	servers := []string{"DATABASE_URL=" + l.DatabaseURL, "AMQP_URL=" + amqpURL, "CI=true"}

	stage("generated; go vet and go test -race of the service")
	inService(t, l.Dir, servers, "go", "vet", "./...")
	testNothingSkipped(t, l.Dir, servers)

	stage("serving against RabbitMQ: CRUD")
	prefix := "e2e-" + strings.ToLower(rand.Text())
	exchange, queue := prefix+".events", prefix+".items"
	t.Cleanup(func() { peek.run(t, "delete", amqpURL, exchange, queue) })
	s := startService(t, l.Dir, l.Name, append(servers, "AMQP_EXCHANGE="+exchange, "AMQP_QUEUE="+queue,
		"OUTBOX_POLL_INTERVAL=100ms", "LOG_LEVEL=warn"))
	waitChecks(t, s, "postgres", "rabbitmq")

	created := call(s.URL, "POST", "/v1/items", `{"name":"Rabbit","price":1200}`, nil)
	if created.status != 201 || created.id == "" {
		t.Fatalf("POST /v1/items = %d %s", created.status, created.body)
	}
	item := "/v1/items/" + created.id
	if r := call(s.URL, "GET", item, "", nil); r.status != 200 || !strings.Contains(r.body, `"Rabbit"`) {
		t.Errorf("GET %s = %d %s", item, r.status, r.body)
	}
	if r := call(s.URL, "PUT", item, `{"name":"Hare","price":1300}`, map[string]string{"If-Match": `"1"`}); r.status != 200 {
		t.Errorf("PUT %s = %d %s", item, r.status, r.body)
	}
	if r := call(s.URL, "GET", "/v1/items", "", nil); r.status != 200 || !strings.Contains(r.body, `"Hare"`) {
		t.Errorf("GET /v1/items = %d %s", r.status, r.body)
	}
	if r := call(s.URL, "DELETE", item, "", nil); r.status != 204 {
		t.Errorf("DELETE %s = %d %s", item, r.status, r.body)
	}
	if r := call(s.URL, "GET", item, "", nil); r.status != 404 {
		t.Errorf("GET %s after DELETE = %d, want 404", item, r.status)
	}

	stage("outbox drains; the events are in the queue")
	msgs := peek.messages(t, amqpURL, queue, 3)
	want := []string{"item.created", "item.updated", "item.deleted"}
	for i, m := range msgs {
		if m.Type != want[i] || m.RoutingKey != want[i] || m.ItemID != created.id || m.DeliveryMode != 2 ||
			m.ContentType != "application/json" || m.Exchange != exchange {
			t.Errorf("message %d = %+v, want %s of item %s, persistent, from %s", i, m, want[i], created.id, exchange)
		}
		var e struct {
			ID      string `json:"id"`
			Version int64  `json:"item_version"`
		}
		if err := json.Unmarshal([]byte(m.Body), &e); err != nil || e.ID != m.MessageID || e.Version != int64(i+1) {
			t.Errorf("message %d body %s (message_id %s): %v", i, m.Body, m.MessageID, err)
		}
	}
	// Published means deleted from the outbox: its backlog gauge says 0 (the hung broker below
	// shows it counting).
	waitMetric(t, s, "outbox_pending_events", "0", func(v float64) bool { return v == 0 })

	stage("broker hung: writes at once, shutdown in time")
	// The service above shares the database: as another replica its relay would publish the
	// hung one's events.
	s.stop(t)
	hung := hungListener(t)
	h := startService(t, l.Dir, l.Name, append([]string{"DATABASE_URL=" + l.DatabaseURL},
		"AMQP_URL=amqp://guest:guest@"+hung+"/", "AMQP_EXCHANGE="+exchange, "AMQP_QUEUE="+queue,
		"AMQP_PUBLISH_TIMEOUT=300ms", "AMQP_CONSUMER_ENABLED=true", "OUTBOX_POLL_INTERVAL=50ms",
		"LOG_LEVEL=warn", "SHUTDOWN_DELAY=0s"))
	waitChecks(t, h, "postgres")
	for i := range 20 {
		r := call(h.URL, "POST", "/v1/items", fmt.Sprintf(`{"name":"hung %d","price":1}`, i), nil)
		if r.status != 201 || r.took > time.Second {
			t.Errorf("POST %d with the broker hung = %d in %s (%v), want 201 within 1s", i+1, r.status, r.took.Round(time.Millisecond), r.err)
		}
	}
	if r := call(h.URL, "GET", "/readyz", "", nil); !strings.Contains(r.body, "rabbitmq") {
		t.Errorf("/readyz with the broker hung = %d %s, want rabbitmq reported", r.status, r.body)
	}
	waitMetric(t, h, "outbox_pending_events", "the events waiting", func(v float64) bool { return v >= 1 })
	start := time.Now()
	h.stop(t)
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("shutdown took %s with the broker hung, want well within 10s", took)
	}
	if t.Failed() {
		t.Logf("hung service log (last lines):\n%s", tail(h.logs.String(), 20))
	}
}

// metricValue is the value of an unlabelled metric on the admin port's /metrics (-1 when absent).
func metricValue(t *testing.T, s *runningService, name string) float64 {
	t.Helper()
	_, _, body := s.doAt(t, s.AdminURL, "GET", "/metrics", "")
	if !hasSeries(body, name) {
		return -1
	}
	return seriesValue(t, body, name)
}

// waitMetric polls an unlabelled metric until ok holds for its value (the relay updates the
// outbox's gauges every few seconds).
func waitMetric(t *testing.T, s *runningService, name, want string, ok func(float64) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := metricValue(t, s, name)
		if got >= 0 && ok(got) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v after 30s, want %s\nlogs:\n%s", name, got, want, tail(s.logs.String(), 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// amqpPeek is a small AMQP client built from source here, with the amqp091-go that generated
// services pin: `peek get URL QUEUE N` prints the first N messages of QUEUE as JSON lines
// (acknowledging them), `peek delete URL EXCHANGE QUEUE` deletes what a service declared.
type amqpPeek struct{ bin string }

// peekMessage is one message as amqpPeek prints it.
type peekMessage struct {
	MessageID    string `json:"message_id"`
	Type         string `json:"type"`
	ContentType  string `json:"content_type"`
	DeliveryMode int    `json:"delivery_mode"`
	Exchange     string `json:"exchange"`
	RoutingKey   string `json:"routing_key"`
	ItemID       string `json:"item_id"`
	Body         string `json:"body"`
}

const amqpPeekSource = `package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

func main() {
	conn, err := amqp.Dial(os.Args[2])
	if err != nil {
		fail(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		fail(err)
	}
	switch os.Args[1] {
	case "get":
		queue := os.Args[3]
		n, _ := strconv.Atoi(os.Args[4])
		deadline := time.Now().Add(20 * time.Second)
		for n > 0 {
			d, ok, err := ch.Get(queue, true)
			if err != nil {
				fail(err)
			}
			if !ok {
				if time.Now().After(deadline) {
					fail(fmt.Errorf("%d messages missing from %s after 20s", n, queue))
				}
				time.Sleep(50 * time.Millisecond)
				continue
			}
			n--
			item, _ := d.Headers["item_id"].(string)
			line, _ := json.Marshal(map[string]any{
				"message_id": d.MessageId, "type": d.Type, "content_type": d.ContentType,
				"delivery_mode": d.DeliveryMode, "exchange": d.Exchange, "routing_key": d.RoutingKey,
				"item_id": item, "body": string(d.Body),
			})
			fmt.Println(string(line))
		}
	case "delete":
		exchange, queue := os.Args[3], os.Args[4]
		for _, q := range []string{queue, queue + ".dlq"} {
			_, _ = ch.QueueDelete(q, false, false, false)
		}
		for _, e := range []string{exchange, exchange + ".dlx"} {
			_ = ch.ExchangeDelete(e, false, false)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
`

// buildAMQPPeek builds amqpPeek in a module of its own.
func buildAMQPPeek(t *testing.T) amqpPeek {
	t.Helper()
	const module = "github.com/rabbitmq/amqp091-go"
	dir := t.TempDir()
	gomod := fmt.Sprintf("module peek\n\ngo %s\n\nrequire %s %s\n", generator.GoVersion, module, generator.Versions[module])
	for name, content := range map[string]string{"go.mod": gomod, "main.go": amqpPeekSource} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	inService(t, dir, nil, "go", "mod", "tidy")
	bin := filepath.Join(dir, "peek")
	inService(t, dir, nil, "go", "build", "-o", bin, ".")
	return amqpPeek{bin: bin}
}

// run runs the client with args and returns its output.
func (p amqpPeek) run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(p.bin, args...).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Errorf("peek %s: %v %s", args[0], err, stderr)
	}
	return string(out)
}

// messages takes n messages from queue.
func (p amqpPeek) messages(t *testing.T, amqpURL, queue string, n int) []peekMessage {
	t.Helper()
	var out []peekMessage
	sc := bufio.NewScanner(strings.NewReader(p.run(t, "get", amqpURL, queue, strconv.Itoa(n))))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m peekMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("peek output %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	if len(out) != n {
		t.Fatalf("read %d messages from %s, want %d", len(out), queue, n)
	}
	return out
}
