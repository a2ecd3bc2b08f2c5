package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"drill/broker"
)

// brokerCmd runs a Broker until SIGTERM or SIGINT (or, with -exit-on-eof, until its stdin closes,
// so that it dies with the test that started it). It prints "hung ADDR" once listening and
// "serving ADDR" once kfake serves, each on a line of its own on stdout.
func brokerCmd(args []string) int {
	fs := flag.NewFlagSet("broker", flag.ExitOnError)
	port := fs.Int("port", 0, "loopback port (0: a free one, printed)")
	hang := fs.Duration("hang", 0, "become real after this long (0: on SIGUSR1 only)")
	eof := fs.Bool("exit-on-eof", false, "exit when stdin reaches end of file")
	_ = fs.Parse(args)

	b, err := broker.Hang(*port)
	if err != nil {
		fmt.Fprintln(os.Stderr, "drill broker:", err)
		return 1
	}
	defer b.Close()
	// The signals are caught before "hung" is printed: a SIGUSR1 sent as soon as the line is read
	// would otherwise be dropped (Go ignores a SIGUSR1 nobody is notified of).
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	fmt.Println("hung", b.Addr())
	closed := make(chan struct{})
	if *eof {
		go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(closed) }()
	}
	var timer <-chan time.Time
	if *hang > 0 {
		timer = time.After(*hang)
	}
	for {
		select {
		case <-usr1:
		case <-timer:
		case <-stop:
			return 0
		case <-closed:
			return 0
		}
		if !b.Serving() {
			if err := b.Serve(); err != nil {
				fmt.Fprintln(os.Stderr, "drill broker:", err)
				return 1
			}
			fmt.Println("serving", b.Addr())
		}
	}
}

// recordsCmd prints every record of a topic as "key<TAB>event_id<TAB>event_type<TAB>traceparent"
// (the last empty when the record has no traceparent header). With -want
// (a file of keys, one a line; - for stdin) it reads until every wanted key is there and exits 1,
// naming the missing keys on stderr, when they are not all there by -timeout.
func recordsCmd(args []string) int {
	fs := flag.NewFlagSet("records", flag.ExitOnError)
	addr := fs.String("brokers", "", "the broker's host:port")
	topic := fs.String("topic", "", "topic to read")
	wantFile := fs.String("want", "", "file of keys that must be on the topic (- for stdin)")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for the wanted keys")
	_ = fs.Parse(args)
	if *addr == "" || *topic == "" {
		fmt.Fprintln(os.Stderr, "drill records: -brokers and -topic are required")
		return 2
	}
	var want []string
	if *wantFile != "" {
		in := os.Stdin
		if *wantFile != "-" {
			f, err := os.Open(*wantFile)
			if err != nil {
				fmt.Fprintln(os.Stderr, "drill records:", err)
				return 2
			}
			defer f.Close()
			in = f
		}
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			if k := strings.TrimSpace(sc.Text()); k != "" {
				want = append(want, k)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	recs, err := broker.Read(ctx, *addr, *topic, want)
	w := bufio.NewWriter(os.Stdout)
	for _, r := range recs {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.Key, r.EventID, r.EventType, r.Traceparent)
	}
	w.Flush()
	if missing := broker.Missing(recs, want); len(missing) > 0 {
		shown := missing[:min(len(missing), 20)]
		fmt.Fprintf(os.Stderr, "drill records: %d of %d wanted keys missing after %s (%v), %d records read; first missing: %s\n",
			len(missing), len(want), *timeout, err, len(recs), strings.Join(shown, " "))
		return 1
	}
	return 0
}
