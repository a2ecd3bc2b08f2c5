package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestEncryptionInTransit runs a generated service against a PostgreSQL that accepts only TLS
// connections (ssl=on, hostssl in pg_hba.conf) and a Redis that listens only on its TLS port,
// both with certificates of a CA the test makes: with sslmode=verify-full&sslrootcert=CA and
// rediss:// with REDIS_TLS_CA_FILE=CA it stores and reads an item and reports both dependencies
// passing; pointed at another CA, it refuses both servers.
func TestEncryptionInTransit(t *testing.T) {
	if testing.Short() {
		t.Skip("encryption in transit: skipped with -short")
	}
	pgBin := postgresBinDir(t)
	redisServer := requireBinary(t, "redis-server")

	dir := t.TempDir()
	ca := newTestCA(t)
	other := newTestCA(t)
	caFile := writeFile(t, dir, "ca.pem", ca.pem, 0o644)
	otherFile := writeFile(t, dir, "other-ca.pem", other.pem, 0o644)
	certPEM, keyPEM := ca.issue(t, "localhost", "127.0.0.1")

	pgPort := startTLSPostgres(t, pgBin, certPEM, keyPEM)
	redisPort := startTLSRedis(t, redisServer, dir, caFile, certPEM, keyPEM)

	svc := filepath.Join(t.TempDir(), "tls-svc")
	svcgen(t, "new", "tls-svc", "--module", "example.com/tls-svc", "--framework", "echo",
		"--database", "postgres", "--cache", "redis", "--broker", "none", "--metrics", "prometheus",
		"--ci", "none", "--deploy", "none", "-o", svc)
	env := func(ca string) []string {
		return []string{
			fmt.Sprintf("DATABASE_URL=postgres://postgres@127.0.0.1:%d/postgres?sslmode=verify-full&sslrootcert=%s", pgPort, ca),
			fmt.Sprintf("REDIS_URL=rediss://localhost:%d/0", redisPort),
			"REDIS_TLS_CA_FILE=" + ca,
			"LOG_LEVEL=debug",
		}
	}

	t.Run("trusted", func(t *testing.T) {
		s := startService(t, svc, "tls-svc", env(caFile))
		waitReady(t, s)
		code, _, body := s.do(t, "POST", "/v1/items", `{"name":"sealed pen","price":120}`)
		if code != 201 {
			t.Fatalf("create over TLS = %d %s\nlogs:\n%s", code, body, s.logs)
		}
		var item struct{ ID string }
		if err := json.Unmarshal([]byte(body), &item); err != nil || item.ID == "" {
			t.Fatalf("create body %s: %v", body, err)
		}
		for i := range 2 { // the second read comes from Redis
			if code, _, body := s.do(t, "GET", "/v1/items/"+item.ID, ""); code != 200 || !strings.Contains(body, "sealed pen") {
				t.Fatalf("get %d over TLS = %d %s", i+1, code, body)
			}
		}
		if got := readyChecks(t, s); got["postgres"] != "pass" || got["redis"] != "pass" {
			t.Errorf("/readyz checks = %v, want postgres and redis pass", got)
		}
		s.stop(t)
	})

	t.Run("another CA", func(t *testing.T) {
		s := startService(t, svc, "tls-svc", env(otherFile))
		deadline := time.Now().Add(15 * time.Second)
		for {
			got := readyChecks(t, s)
			logs := s.logs.String()
			if got["postgres"] == "fail" && got["redis"] == "fail" && strings.Contains(logs, "certificate signed by unknown authority") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("/readyz checks = %v, want postgres and redis failing on the unknown CA\nlogs:\n%s", got, tail(logs, 30))
			}
			time.Sleep(200 * time.Millisecond)
		}
		if code, _, body := s.do(t, "POST", "/v1/items", `{"name":"leaked pen","price":1}`); code != 503 {
			t.Errorf("create against an untrusted PostgreSQL = %d %s, want 503", code, body)
		}
		s.stop(t)
	})
}

// readyChecks returns each /readyz check's status, whatever the response's code.
func readyChecks(t *testing.T, s *runningService) map[string]string {
	t.Helper()
	_, _, body := s.do(t, "GET", "/readyz", "")
	var r struct {
		Checks map[string][]struct{ Status string }
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("/readyz body %q: %v", body, err)
	}
	out := map[string]string{}
	for name, cs := range r.Checks {
		if len(cs) > 0 {
			out[name] = cs[0].Status
		}
	}
	return out
}

// requireBinary finds a server binary on PATH; without it the test skips, or fails under CI=true,
// where a skipped integration test would hide a broken pipeline.
func requireBinary(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, name+" is not installed (Debian: apt-get install postgresql redis-server)")
	}
	return p
}

// postgresBinDir is the bin directory of the newest PostgreSQL installed from Debian's packages
// (initdb and pg_ctl are not on PATH there), or of the one on PATH.
func postgresBinDir(t *testing.T) string {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return va - vb
	})
	for _, d := range slices.Backward(dirs) {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	missing(t, "PostgreSQL's initdb and pg_ctl are not installed (Debian: apt-get install postgresql)")
	return ""
}

func missing(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s; with CI=true the TLS integration test must run", why)
	}
	t.Skip(why + ": skipping the TLS integration test")
}

// startTLSPostgres initialises a throwaway cluster that accepts only TLS connections from
// 127.0.0.1 with the given certificate, starts it on a free port, and stops it at cleanup.
// PostgreSQL refuses to run as root: then the cluster belongs to, and runs as, user postgres.
func startTLSPostgres(t *testing.T, bin string, certPEM, keyPEM []byte) int {
	t.Helper()
	var cred *syscall.Credential
	uid, gid := -1, -1
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			missing(t, "running as root without a postgres user to run PostgreSQL as")
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	// Not t.TempDir: the postgres user must be able to reach it.
	root, err := os.MkdirTemp("", "svcgen-e2e-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	data := filepath.Join(root, "data")
	cert := writeFile(t, root, "server.crt", certPEM, 0o644)
	key := writeFile(t, root, "server.key", keyPEM, 0o600)
	if uid >= 0 {
		for _, p := range []string{root, cert, key} {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "--no-sync")
	// Only TLS connections are let in: the service cannot have fallen back to plain text.
	hba := "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 0.0.0.0/0 reject\n"
	if err := os.WriteFile(filepath.Join(data, "pg_hba.conf"), []byte(hba), 0o600); err != nil {
		t.Fatal(err)
	}
	if uid >= 0 {
		if err := os.Chown(filepath.Join(data, "pg_hba.conf"), uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file=%s -c ssl_key_file=%s -c fsync=off",
		port, root, cert, key)
	run("pg_ctl", "-D", data, "-l", filepath.Join(root, "log"), "-o", opts, "-w", "-t", "30", "start")
	t.Cleanup(func() {
		cmd := exec.Command(filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("stopping the TLS PostgreSQL: %v\n%s", err, out)
		}
	})
	return port
}

// startTLSRedis starts redis-server on a free port with TLS only (no plain port), stopped at cleanup.
func startTLSRedis(t *testing.T, bin, dir, caFile string, certPEM, keyPEM []byte) int {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(bin, "--port", "0", "--tls-port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--tls-cert-file", writeFile(t, dir, "redis.crt", certPEM, 0o644),
		"--tls-key-file", writeFile(t, dir, "redis.key", keyPEM, 0o600),
		"--tls-ca-cert-file", caFile, "--tls-auth-clients", "no",
		"--save", "", "--appendonly", "no", "--dir", dir)
	logs := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return port
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not listen on its TLS port within 10s:\n%s", logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testCA is a certificate authority of one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key := newECKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "svcgen e2e CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue makes a server certificate for hosts (DNS names or IP addresses) and returns it and its
// key, PEM-encoded.
func (ca *testCA) issue(t *testing.T, hosts ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	key := newECKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: hosts[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

func newECKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func writeFile(t *testing.T, dir, name string, data []byte, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
	return p
}
