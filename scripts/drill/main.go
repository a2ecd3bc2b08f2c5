// Command drill is the load generator and referee of scripts/drill.sh, and the swappable Kafka of
// svcgen's event e2e test.
//
//	drill [flags]          the fault drill: prints a table of bounds, exits 1 when one fails
//	drill broker [flags]   a Kafka on one port: hung, then real (kfake) on SIGUSR1 or after -hang
//	drill records [flags]  reads a topic back and prints each record's key, event id, type and traceparent
//
// The drill runs two generated services. The pg+redis+prometheus one has its Redis and then its
// PostgreSQL stopped and started under load, then gets SIGTERM under load (see outage). The
// pg+redis+kafka+prometheus one starts with a broker that accepts TCP and never answers, gets
// writes, sees the broker become real, is killed with SIGKILL under load and restarted, then has
// PostgreSQL and Redis hung by SIGSTOP (see events). The services read their settings
// (REQUEST_TIMEOUT, breakers, DATABASE_URL, REDIS_URL, ...) from the environment drill.sh gives.
//
// It is a module of its own so that svcgen's `go build ./...` and `go vet ./...` leave it and
// its Kafka modules (franz-go, kfake) out.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"drill/broker"
)

// grace is the client-side slack on top of REQUEST_TIMEOUT for a request to count as bounded.
const grace = 200 * time.Millisecond

// reqTimeout is the services' REQUEST_TIMEOUT.
var reqTimeout time.Duration

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "broker":
			os.Exit(brokerCmd(os.Args[2:]))
		case "records":
			os.Exit(recordsCmd(os.Args[2:]))
		}
	}
	os.Exit(drill())
}

func drill() int {
	var (
		bin      = flag.String("bin", "", "the pg+redis+prometheus service's binary")
		kafkaBin = flag.String("kafka-bin", "", "the pg+redis+kafka+prometheus service's binary (empty: no events drill)")
		dir      = flag.String("dir", "", "directory for the services' logs and PID files")
		srv      servers
	)
	flag.StringVar(&srv.redisStop, "redis-stop", "", "shell command that stops Redis")
	flag.StringVar(&srv.redisStart, "redis-start", "", "shell command that starts Redis and waits for it")
	flag.StringVar(&srv.redisHang, "redis-hang", "", "shell command that SIGSTOPs Redis")
	flag.StringVar(&srv.redisResume, "redis-resume", "", "shell command that SIGCONTs Redis")
	flag.StringVar(&srv.pgStop, "pg-stop", "", "shell command that stops PostgreSQL")
	flag.StringVar(&srv.pgStart, "pg-start", "", "shell command that starts PostgreSQL and waits for it")
	flag.StringVar(&srv.pgHang, "pg-hang", "", "shell command that SIGSTOPs PostgreSQL (postmaster and backends)")
	flag.StringVar(&srv.pgResume, "pg-resume", "", "shell command that SIGCONTs PostgreSQL")
	flag.Parse()
	var err error
	if reqTimeout, err = time.ParseDuration(os.Getenv("REQUEST_TIMEOUT")); err != nil {
		fatalf("REQUEST_TIMEOUT must be set: %v", err)
	}
	if *bin == "" || *dir == "" {
		fatalf("-bin and -dir are required")
	}

	var t table
	outage(&service{name: "outage service", bin: *bin, port: freePort(), log: filepath.Join(*dir, "service.log"), pid: filepath.Join(*dir, "service.pid")}, srv, &t)

	if *kafkaBin != "" {
		b, err := broker.Hang(0)
		if err != nil {
			fatalf("%v", err)
		}
		defer b.Close()
		topic := fmt.Sprintf("drill-%d.items", os.Getpid())
		svc := &service{name: "events service", bin: *kafkaBin, port: freePort(),
			log: filepath.Join(*dir, "events-service.log"), pid: filepath.Join(*dir, "events-service.pid"),
			env: []string{"KAFKA_BROKERS=" + b.Addr(), "KAFKA_TOPIC=" + topic}}
		fmt.Printf("events service: port %d, broker %s (hung, then kfake), topic %s\n", svc.port, b.Addr(), topic)
		events(svc, b, topic, srv, &t)
	}

	fmt.Println()
	if !t.print(os.Stdout) {
		return 1
	}
	return 0
}

// freePort asks the kernel for a free loopback port.
func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatalf("%v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
