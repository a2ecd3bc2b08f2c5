package e2e

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestNATSService is issue M's "Done when" for --broker nats, on a generated
// echo+postgres+redis+nats+prometheus service:
//   - it builds, vets and passes `go test -race` with CI=true against the real servers, nothing
//     skipped (its own tests cover acknowledged publish, dedupe by event id, the consumer's
//     ack/retry/dead-letter and the relay draining the outbox);
//   - run as a binary with NATS_URL, it serves CRUD, `outbox_pending_events` drains to 0, every
//     write's event is in the stream (read back over the NATS protocol), and the consumer skeleton
//     handles them;
//   - with the server hung (a listener that accepts TCP and never answers) it still answers every
//     write at once and shuts down in time.
func TestNATSService(t *testing.T) {
	if testing.Short() {
		t.Skip("nats: skipped with -short")
	}
	env := integrationEnv(t) // fails under CI=true without the servers
	natsURL := os.Getenv("NATS_URL")
	if natsURL == "" || os.Getenv("DATABASE_URL") == "" || os.Getenv("REDIS_URL") == "" {
		skipOrFail(t, "nats: DATABASE_URL, REDIS_URL and NATS_URL are not all set; start the servers with scripts/services.sh")
	}
	psql := requireTool(t, "psql", "apt-get install -y postgresql-client")

	dir := filepath.Join(t.TempDir(), "nats-svc")
	svcgen(t, "new", "nats-svc", "--module", "example.com/nats-svc", "--framework", "echo",
		"--database", "postgres", "--cache", "redis", "--broker", "nats", "--metrics", "prometheus",
		"--tracing", "none", "--ci", "github", "--deploy", "kubernetes", "-o", dir)
	inService(t, dir, env, "go", "build", "./...")
	inService(t, dir, env, "go", "vet", "./...")
	dbURL := createDatabase(t, psql, os.Getenv("DATABASE_URL"))
	testNothingSkipped(t, dir, append(env, "CI=true", "DATABASE_URL="+dbURL))

	id := strings.ToLower(rand.Text()[:12])
	stream, subject := "e2e-"+id, "e2e."+id
	t.Cleanup(func() {
		for _, s := range []string{stream, stream + "-dlq"} {
			_, _ = natsRequest(natsURL, "$JS.API.STREAM.DELETE."+s, "")
		}
	})
	svcEnv := []string{
		"DATABASE_URL=" + dbURL, "REDIS_URL=" + os.Getenv("REDIS_URL"), "REDIS_KEY_PREFIX=e2e-" + id + ":",
		"NATS_URL=" + natsURL, "NATS_STREAM=" + stream, "NATS_SUBJECT=" + subject,
		"NATS_CONSUMER_ENABLED=true", "RATE_LIMIT_RPS=0", "LOG_LEVEL=warn",
	}
	s := startService(t, dir, "nats-svc", svcEnv)
	waitStorage(t, s)

	// CRUD over HTTP.
	created := call(s.URL, "POST", "/v1/items", `{"name":"Widget","price":100}`, nil)
	if created.status != 201 || created.id == "" {
		t.Fatalf("POST = %d %s", created.status, created.body)
	}
	item := "/v1/items/" + created.id
	if r := call(s.URL, "GET", item, "", nil); r.status != 200 || !strings.Contains(r.body, `"Widget"`) {
		t.Errorf("GET = %d %s", r.status, r.body)
	}
	if r := call(s.URL, "PUT", item, `{"name":"Gadget","price":250}`, map[string]string{"If-Match": `"1"`}); r.status != 200 {
		t.Errorf("PUT = %d %s", r.status, r.body)
	}
	if r := call(s.URL, "DELETE", item, "", nil); r.status != 204 {
		t.Errorf("DELETE = %d %s", r.status, r.body)
	}
	if r := call(s.URL, "GET", item, "", nil); r.status != 404 {
		t.Errorf("GET after DELETE = %d", r.status)
	}

	// The outbox drains, the three events are in the stream in order, and the consumer handled them.
	waitMetric(t, s, "outbox_pending_events", "0", func(v float64) bool { return v == 0 })
	var types []string
	for seq := 1; seq <= 3; seq++ {
		m := streamMessage(t, natsURL, stream, seq)
		var e struct {
			ID     string `json:"id"`
			Type   string `json:"type"`
			ItemID string `json:"item_id"`
		}
		if err := json.Unmarshal(m.data, &e); err != nil || e.ItemID != created.id {
			t.Errorf("message %d of the stream: %s (%v), want an event of item %s", seq, m.data, err, created.id)
		}
		if m.subject != subject+"."+e.Type || !strings.Contains(m.headers, "Nats-Msg-Id: "+e.ID) {
			t.Errorf("message %d on %s with headers %q, want %s.%s and Nats-Msg-Id %s", seq, m.subject, m.headers, subject, e.Type, e.ID)
		}
		types = append(types, e.Type)
	}
	if strings.Join(types, ",") != "item.created,item.updated,item.deleted" {
		t.Errorf("events in the stream: %v", types)
	}
	if n := streamMessages(t, natsURL, stream); n != 3 {
		t.Errorf("the stream holds %d messages, want 3", n)
	}
	waitMetric(t, s, "nats_consumer_events_handled_total", "3", func(v float64) bool { return v == 3 })
	s.stop(t)

	// The server hangs: writes are answered at once, their events wait, and shutdown is in time.
	hung := hungListener(t)
	hungEnv := append(svcEnv[:len(svcEnv):len(svcEnv)], "NATS_URL=nats://"+hung, "NATS_PUBLISH_TIMEOUT=500ms")
	h := startBinary(t, s.Bin, hungEnv)
	waitStorage(t, h)
	for i := range 10 {
		r := call(h.URL, "POST", "/v1/items", fmt.Sprintf(`{"name":"hung %d","price":1}`, i), nil)
		if r.status != 201 || r.took > time.Second {
			t.Errorf("POST %d with NATS hung = %d in %s (%v), want 201 within 1s", i+1, r.status, r.took.Round(time.Millisecond), r.err)
		}
	}
	if r := call(h.URL, "GET", "/readyz", "", nil); !strings.Contains(r.body, "nats") {
		t.Errorf("/readyz with NATS hung = %d %s, want the nats check named", r.status, r.body)
	}
	start := time.Now()
	h.stop(t)
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("shutdown with NATS hung took %s, want well under 10s", took)
	}
}

// storedMessage is a message read back from a JetStream stream.
type storedMessage struct {
	subject string
	headers string // the NATS/1.0 header block
	data    []byte
}

// streamMessage reads message seq of stream through JetStream's API, retrying for 10s.
func streamMessage(t *testing.T, natsURL, stream string, seq int) storedMessage {
	t.Helper()
	var last string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		reply, err := natsRequest(natsURL, "$JS.API.STREAM.MSG.GET."+stream, fmt.Sprintf(`{"seq":%d}`, seq))
		if err != nil {
			last = err.Error()
			continue
		}
		var r struct {
			Message *struct {
				Subject string `json:"subject"`
				Hdrs    string `json:"hdrs"`
				Data    string `json:"data"`
			} `json:"message"`
		}
		if err := json.Unmarshal(reply, &r); err != nil || r.Message == nil {
			last = string(reply)
			continue
		}
		hdrs, _ := base64.StdEncoding.DecodeString(r.Message.Hdrs)
		data, _ := base64.StdEncoding.DecodeString(r.Message.Data)
		return storedMessage{subject: r.Message.Subject, headers: string(hdrs), data: data}
	}
	t.Fatalf("message %d of stream %s: %s", seq, stream, last)
	return storedMessage{}
}

// streamMessages is how many messages stream holds.
func streamMessages(t *testing.T, natsURL, stream string) int {
	t.Helper()
	reply, err := natsRequest(natsURL, "$JS.API.STREAM.INFO."+stream, "")
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		State struct {
			Messages int `json:"messages"`
		} `json:"state"`
	}
	if err := json.Unmarshal(reply, &info); err != nil {
		t.Fatalf("stream info %s: %v", reply, err)
	}
	return info.State.Messages
}

// natsRequest sends one request over the NATS client protocol (svcgen's module has no NATS
// client) and returns the reply's payload, within 5s.
func natsRequest(natsURL, subject, payload string) ([]byte, error) {
	u, err := url.Parse(strings.Split(natsURL, ",")[0])
	if err != nil {
		return nil, err
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	connect := map[string]any{"verbose": false, "pedantic": false, "headers": true, "no_responders": true, "protocol": 1}
	if u.User != nil {
		pass, _ := u.User.Password()
		connect["user"], connect["pass"] = u.User.Username(), pass
	}
	hello, _ := json.Marshal(connect)
	inbox := "_INBOX.e2e." + strings.ToLower(rand.Text()[:8])
	if _, err := fmt.Fprintf(conn, "CONNECT %s\r\nSUB %s 1\r\nPUB %s %s %d\r\n%s\r\n", hello, inbox, subject, inbox, len(payload), payload); err != nil {
		return nil, err
	}
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case f[0] == "PING":
			_, _ = io.WriteString(conn, "PONG\r\n")
		case f[0] == "-ERR":
			return nil, fmt.Errorf("nats: %s", strings.TrimSpace(line))
		case f[0] == "MSG" || f[0] == "HMSG":
			// MSG subject sid [reply] size; HMSG subject sid [reply] header-size total-size.
			total, err := strconv.Atoi(f[len(f)-1])
			if err != nil {
				return nil, fmt.Errorf("nats: bad %q", line)
			}
			body := make([]byte, total+2)
			if _, err := io.ReadFull(r, body); err != nil {
				return nil, err
			}
			if f[0] == "HMSG" {
				hdr, _ := strconv.Atoi(f[len(f)-2])
				if strings.Contains(string(body[:hdr]), "503") {
					return nil, fmt.Errorf("nats: no responders for %s (JetStream off?)", subject)
				}
				return body[hdr:total], nil
			}
			return body[:total], nil
		}
	}
}
