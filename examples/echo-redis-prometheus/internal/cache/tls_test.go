package cache

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/internal/breaker"
	"github.com/acme/catalog/internal/config"
	"github.com/acme/catalog/internal/tlstest"
)

// TestTLSWithPrivateCA connects through rediss:// to a TLS listener whose
// certificate a test CA signed — a TLS-terminating proxy in front of REDIS_URL's
// server, so the Redis commands are real — and checks that REDIS_TLS_CA_FILE is
// what makes the connection trusted, and that the URL's host is the name verified.
func TestTLSWithPrivateCA(t *testing.T) {
	plain, err := url.Parse(redisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	ca := tlstest.NewCA(t)
	port := tlsProxy(t, ca.ServerConfig(t, "localhost"), plain.Host)
	secure := func(host string) string {
		u := *plain
		u.Scheme, u.Host = "rediss", net.JoinHostPort(host, port)
		return u.String()
	}
	withCA := func(file string) func(*config.Redis) {
		return func(c *config.Redis) { c.TLSCAFile = file }
	}
	set := breaker.Settings{Failures: 100, OpenTimeout: time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	c := open(t, secure("localhost"), set, withCA(ca.File(t)))
	deleteKeysAtCleanup(t, c)
	key := c.prefix + "tls"
	if err := c.rdb.Set(ctx, key, "sealed", time.Minute).Err(); err != nil {
		t.Fatalf("SET over TLS with the CA file: %v", err)
	}
	if got, err := c.rdb.Get(ctx, key).Result(); err != nil || got != "sealed" {
		t.Fatalf("GET over TLS = %q, %v; want \"sealed\"", got, err)
	}

	// The client's one-second timeout also bounds its TLS handshake, and the first
	// handshake without a CA file loads the system's CAs (slow under -race on a busy
	// machine): load them once here so the subtests time only the handshake.
	if _, err := x509.SystemCertPool(); err != nil {
		t.Logf("system CAs: %v", err)
	}
	for name, tc := range map[string]struct {
		url  string
		opts []func(*config.Redis)
		want any
	}{
		"without the CA file (the system's CAs)":    {secure("localhost"), nil, &tls.CertificateVerificationError{}},
		"with another CA":                           {secure("localhost"), []func(*config.Redis){withCA(tlstest.NewCA(t).File(t))}, &tls.CertificateVerificationError{}},
		"with a host the certificate does not name": {secure("127.0.0.1"), []func(*config.Redis){withCA(ca.File(t))}, x509.HostnameError{}},
	} {
		t.Run(name, func(t *testing.T) {
			c := open(t, tc.url, set, tc.opts...)
			err := c.rdb.Ping(ctx).Err()
			if err == nil {
				t.Fatal("PING succeeded against a server the client must not trust")
			}
			switch want := tc.want.(type) {
			case *tls.CertificateVerificationError:
				if !errors.As(err, &want) {
					t.Errorf("PING = %v, want a certificate verification error", err)
				}
			case x509.HostnameError:
				if !errors.As(err, &want) {
					t.Errorf("PING = %v, want a host name mismatch", err)
				}
			}
		})
	}

	if _, err := Open(config.Redis{URL: secure("localhost"), TLSCAFile: "/nonexistent/ca.pem", Timeout: time.Second},
		breaker.New("redis", set), discard()); err == nil || !strings.Contains(err.Error(), "REDIS_TLS_CA_FILE") {
		t.Errorf("Open with a missing CA file = %v, want an error naming REDIS_TLS_CA_FILE", err)
	}
}

// tlsProxy listens on a loopback port with TLS, forwards every connection's
// plaintext to upstream, and returns the port. It stops when the test ends.
func tlsProxy(t *testing.T, cfg *tls.Config, upstream string) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	track := func(c net.Conn) { mu.Lock(); conns = append(conns, c); mu.Unlock() }
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", upstream)
			if err != nil {
				_ = in.Close()
				continue
			}
			track(in)
			track(out)
			pipe := func(dst, src net.Conn) {
				_, _ = io.Copy(dst, src)
				_ = dst.Close()
				_ = src.Close()
			}
			wg.Go(func() { pipe(out, in) })
			wg.Go(func() { pipe(in, out) })
		}
	})
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
