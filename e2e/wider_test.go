package e2e

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWiderStacks is issue M's "Done when" for the wider stack: echo+mysql+memcached+rabbitmq,
// gin+mysql+redis+nats, echo+postgres+memcached+nats and gin+postgres+rabbitmq services, all with
// Prometheus, build, vet and pass `go test -race` against the real servers (MariaDB, PostgreSQL,
// Redis, Memcached, RabbitMQ, NATS JetStream) with CI=true and nothing skipped; run as binaries
// on a database, cache prefix and broker names of their own, they serve CRUD with ETags, and
// every write's event leaves the outbox (outbox_pending_events drains to 0).
func TestWiderStacks(t *testing.T) {
	if testing.Short() {
		t.Skip("wider stacks: skipped with -short")
	}
	for _, row := range []struct{ framework, database, cache, broker string }{
		{"echo", "mysql", "memcached", "rabbitmq"},
		{"gin", "mysql", "redis", "nats"},
		{"echo", "postgres", "memcached", "nats"},
		{"gin", "postgres", "none", "rabbitmq"},
	} {
		name := strings.Join([]string{row.framework, row.database, row.cache, row.broker}, "-")
		t.Run(name, func(t *testing.T) {
			env := integrationEnv(t, row.database, row.cache, row.broker) // fails under CI=true without the servers
			server := map[string]string{"postgres": "DATABASE_URL", "mysql": "MYSQL_URL", "redis": "REDIS_URL",
				"memcached": "MEMCACHED_SERVERS", "rabbitmq": "AMQP_URL", "nats": "NATS_URL"}
			for _, c := range []string{row.database, row.cache, row.broker} {
				if v, ok := server[c]; ok && os.Getenv(v) == "" {
					skipOrFail(t, "%s is not set; start the servers with scripts/services.sh", v)
				}
			}
			dir := filepath.Join(t.TempDir(), "wide-svc")
			svcgen(t, "new", "wide-svc", "--module", "example.com/wide-svc", "--framework", row.framework,
				"--database", row.database, "--cache", row.cache, "--broker", row.broker, "--metrics", "prometheus",
				"--tracing", "none", "--auth", "none", "--ci", "none", "--deploy", "none", "-o", dir)
			inService(t, dir, nil, "go", "build", "./...")
			inService(t, dir, nil, "go", "vet", "./...")
			testNothingSkipped(t, dir, append([]string{"CI=true"}, env...))

			unique := strings.ToLower(rand.Text())
			svcEnv := []string{"RATE_LIMIT_RPS=0", "LOG_LEVEL=warn"}
			switch row.database {
			case "postgres":
				psql := requireTool(t, "psql", "apt-get install -y postgresql-client")
				svcEnv = append(svcEnv, "DATABASE_URL="+createDatabase(t, psql, os.Getenv("DATABASE_URL")))
			case "mysql":
				client := requireTool(t, "mariadb", "apt-get install -y mariadb-client")
				svcEnv = append(svcEnv, "DATABASE_URL="+createMySQLDatabase(t, client, os.Getenv("MYSQL_URL")))
			}
			switch row.cache {
			case "redis":
				svcEnv = append(svcEnv, "REDIS_URL="+os.Getenv("REDIS_URL"), "REDIS_KEY_PREFIX=e2e-"+unique+":")
			case "memcached":
				svcEnv = append(svcEnv, "MEMCACHED_SERVERS="+os.Getenv("MEMCACHED_SERVERS"))
			}
			exchange, queue, stream := "wide-"+unique+".events", "wide-"+unique+".items", "wide-"+unique
			switch row.broker {
			case "rabbitmq":
				svcEnv = append(svcEnv, "AMQP_URL="+os.Getenv("AMQP_URL"), "AMQP_EXCHANGE="+exchange, "AMQP_QUEUE="+queue)
			case "nats":
				svcEnv = append(svcEnv, "NATS_URL="+os.Getenv("NATS_URL"), "NATS_STREAM="+stream, "NATS_SUBJECT=wide."+unique)
			}
			s := startService(t, dir, "wide-svc", append(svcEnv, "OUTBOX_POLL_INTERVAL=100ms"))
			waitReady(t, s)
			itemsCRUD(t, s.URL) // three creates, an update and a delete: five events

			// Every event is on the broker, and the outbox's backlog is then 0.
			switch row.broker {
			case "rabbitmq":
				peek := buildAMQPPeek(t)
				t.Cleanup(func() { peek.run(t, "delete", os.Getenv("AMQP_URL"), exchange, queue) })
				peek.messages(t, os.Getenv("AMQP_URL"), queue, 5)
			case "nats":
				deadline := time.Now().Add(30 * time.Second)
				for n := 0; n < 5; n = streamMessages(t, os.Getenv("NATS_URL"), stream) {
					if time.Now().After(deadline) {
						t.Fatalf("stream %s holds %d events 30s after five writes\nlogs:\n%s", stream, n, tail(s.logs.String(), 20))
					}
					time.Sleep(200 * time.Millisecond)
				}
			}
			waitMetric(t, s, "outbox_pending_events", "0", func(v float64) bool { return v == 0 })
		})
	}
}
