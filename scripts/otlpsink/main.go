// Command otlpsink is the trace collector of scripts/bench-tracing.sh: an OTLP/HTTP endpoint on
// loopback that answers every export as a collector does (so the exporter's work is the same
// as against a real one) and discards the spans, counting them on the wire without decoding.
//
//	otlpsink [-port N]
//
// It prints "listening http://127.0.0.1:PORT" once it accepts exports (the value for
// OTEL_EXPORTER_OTLP_ENDPOINT) and, on SIGTERM or SIGINT, "exports N spans M" before it exits.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/svcgen/svcgen/e2e/otlptest"
)

func main() {
	port := flag.Int("port", 0, "loopback port (0: a free one, printed)")
	flag.Parse()
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(*port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "otlpsink:", err)
		os.Exit(1)
	}
	recv := &otlptest.Receiver{Discard: true}
	srv := &http.Server{Handler: recv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Println("listening http://" + ln.Addr().String())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	exports, spans := recv.Counts()
	fmt.Println("exports", exports, "spans", spans)
}
