package e2e

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAuthEndToEnd is issue M's auth row of "Done when", black box: a gin+postgres+prometheus
// service generated with --auth jwt builds, vets and passes `go test -race` against PostgreSQL
// with nothing skipped, and its OpenAPI document passes Redocly's recommended rules; run as a
// binary against an OpenID Connect issuer this test serves (discovery and a key set of a real
// RSA key, RS256 tokens signed here), it answers
//   - 401 with WWW-Authenticate: Bearer, as a problem, without a token and for expired,
//     wrong-audience, wrong-issuer and tampered tokens;
//   - 403 with error="insufficient_scope" for a write with only items:read;
//   - 200/201 with a valid token; its probes and admin port without one;
//
// and never logs a token. Started against an issuer that accepts connections and never answers,
// it starts, stays live, and answers a request with a valid token 503 with Retry-After within
// its bounds.
func TestAuthEndToEnd(t *testing.T) {
	const name = "auth-svc"
	l := generateLive(t, "auth end to end", name, "--framework", "gin", "--database", "postgres", "--cache", "none",
		"--broker", "none", "--metrics", "prometheus", "--auth", "jwt")
	dir, dbURL := l.Dir, l.DatabaseURL
	lintOpenAPI(t, redocly(t), dir)
	inService(t, dir, nil, "go", "build", "./...")
	inService(t, dir, nil, "go", "vet", "./...")
	testNothingSkipped(t, dir, []string{"DATABASE_URL=" + dbURL})

	iss := newOIDCIssuer(t)
	const audience = "https://auth-svc.test"
	bin := filepath.Join(t.TempDir(), name)
	inService(t, dir, nil, "go", "build", "-o", bin, "./cmd/"+name)
	s := startBinary(t, bin, []string{"DATABASE_URL=" + dbURL, "AUTH_ISSUER=" + iss.URL, "AUTH_AUDIENCE=" + audience,
		"RATE_LIMIT_RPS=0", "LOG_LEVEL=debug"})
	waitReady(t, s)

	token := func(mod func(c map[string]any)) string {
		c := map[string]any{"iss": iss.URL, "aud": audience, "sub": "user-7", "scope": "items:read items:write",
			"iat": time.Now().Add(-time.Minute).Unix(), "exp": time.Now().Add(time.Hour).Unix()}
		if mod != nil {
			mod(c)
		}
		return iss.sign(c)
	}
	valid := token(nil)
	readOnly := token(func(c map[string]any) { c["scope"] = "items:read" })
	tampered := tamperJWT(token(func(c map[string]any) { c["scope"] = "items:read" }))
	sent := []string{valid, readOnly, tampered}
	unauthorized := []struct{ what, token string }{
		{"no token", ""},
		{"an expired token", token(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() })},
		{"a token for another audience", token(func(c map[string]any) { c["aud"] = "https://other.test" })},
		{"a token of another issuer", token(func(c map[string]any) { c["iss"] = "https://evil.test" })},
		{"a tampered token", tampered},
	}
	for _, u := range unauthorized {
		sent = append(sent, u.token)
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			status, h, body := authRequest(t, s.URL, m, "/v1/items", u.token, `{"name":"Widget","price":1}`)
			if status != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") ||
				h.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s /v1/items with %s = %d, WWW-Authenticate %q, %s; want 401, Bearer, a problem: %s",
					m, u.what, status, h.Get("WWW-Authenticate"), h.Get("Content-Type"), body)
			}
			if u.token != "" && !strings.Contains(h.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("%s with %s: WWW-Authenticate %q lacks error=\"invalid_token\"", m, u.what, h.Get("WWW-Authenticate"))
			}
		}
	}
	status, h, body := authRequest(t, s.URL, http.MethodPost, "/v1/items", readOnly, `{"name":"Widget","price":1}`)
	if status != http.StatusForbidden || !strings.Contains(h.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
		t.Errorf("POST with only items:read = %d, WWW-Authenticate %q; want 403 insufficient_scope: %s", status, h.Get("WWW-Authenticate"), body)
	}
	if status, _, body := authRequest(t, s.URL, http.MethodGet, "/v1/items", readOnly, ""); status != http.StatusOK {
		t.Errorf("GET with items:read = %d, want 200: %s", status, body)
	}
	status, h, body = authRequest(t, s.URL, http.MethodPost, "/v1/items", valid, `{"name":"Widget","price":1}`)
	if status != http.StatusCreated {
		t.Fatalf("POST with a valid token = %d, want 201: %s", status, body)
	}
	if status, _, body := authRequest(t, s.URL, http.MethodGet, h.Get("Location"), valid, ""); status != http.StatusOK {
		t.Errorf("GET %s with a valid token = %d, want 200: %s", h.Get("Location"), status, body)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if status, _, body := authRequest(t, s.URL, http.MethodGet, path, "", ""); status != http.StatusOK {
			t.Errorf("GET %s without a token = %d, want 200: %s", path, status, body)
		}
	}
	if status, _, _ := authRequest(t, s.AdminURL, http.MethodGet, "/metrics", "", ""); status != http.StatusOK {
		t.Errorf("admin GET /metrics without a token = %d, want 200", status)
	}
	s.stop(t)
	for _, tok := range sent {
		if tok != "" && strings.Contains(s.logs.String(), tok[strings.LastIndex(tok, ".")+1:]) {
			t.Errorf("the log holds a token's signature:\n%s", s.logs)
			break
		}
	}

	// An issuer that accepts connections and never answers: start-up does not wait for it,
	// and a request is answered 503 with Retry-After within AUTH_TIMEOUT.
	hung, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hung.Close() })
	go func() {
		for {
			conn, err := hung.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { conn.Close() })
			go func() { _, _ = io.Copy(io.Discard, conn) }()
		}
	}()
	hungURL := "http://" + hung.Addr().String()
	h2 := startBinary(t, bin, []string{"DATABASE_URL=" + dbURL, "AUTH_ISSUER=" + hungURL, "AUTH_AUDIENCE=" + audience,
		"AUTH_TIMEOUT=500ms", "RATE_LIMIT_RPS=0"})
	if status, _, _ := authRequest(t, h2.URL, http.MethodGet, "/healthz", "", ""); status != http.StatusOK {
		t.Errorf("/healthz with the issuer hung = %d, want 200", status)
	}
	hungToken := iss.sign(map[string]any{"iss": hungURL, "aud": audience, "sub": "u", "scope": "items:read",
		"exp": time.Now().Add(time.Hour).Unix()})
	for i := range 3 {
		start := time.Now()
		status, h, body := authRequest(t, h2.URL, http.MethodGet, "/v1/items", hungToken, "")
		if status != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
			t.Errorf("request %d with the issuer hung = %d (Retry-After %q), want 503 with Retry-After: %s", i, status, h.Get("Retry-After"), body)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("request %d with the issuer hung took %s", i, d)
		}
	}
	if status, _, _ := authRequest(t, h2.URL, http.MethodGet, "/v1/items", "", ""); status != http.StatusUnauthorized {
		t.Errorf("no token with the issuer hung = %d, want 401", status)
	}
}

// authRequest sends a request with an optional bearer token and returns status, headers and body.
func authRequest(t *testing.T, base, method, path, token, body string) (int, http.Header, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var reader io.Reader
	if method != http.MethodGet && body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, reader)
	if err != nil {
		t.Fatal(err)
	}
	if reader != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(data)
}

// oidcIssuer is an OpenID Connect issuer written with the standard library only, so that
// the test checks the service against the protocol and not against the library it uses.
type oidcIssuer struct {
	URL string
	key *rsa.PrivateKey
}

func newOIDCIssuer(t *testing.T) *oidcIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	iss := &oidcIssuer{key: key}
	b64 := base64.RawURLEncoding.EncodeToString
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": iss.URL, "jwks_uri": iss.URL + "/jwks", "authorization_endpoint": iss.URL + "/authorize",
			"token_endpoint": iss.URL + "/token", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "e2e-key",
			"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
		}}})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	iss.URL = srv.URL
	return iss
}

// sign makes an RS256 JWT of claims under the issuer's key.
func (i *oidcIssuer) sign(claims map[string]any) string {
	b64 := base64.RawURLEncoding.EncodeToString
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": "e2e-key"})
	payload, _ := json.Marshal(claims)
	signing := b64(header) + "." + b64(payload)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, i.key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return signing + "." + b64(sig)
}

// tamperJWT widens a token's scope and keeps its signature.
func tamperJWT(token string) string {
	parts := strings.Split(token, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	_ = json.Unmarshal(payload, &claims)
	claims["scope"] = "items:read items:write"
	changed, _ := json.Marshal(claims)
	parts[1] = base64.RawURLEncoding.EncodeToString(changed)
	return strings.Join(parts, ".")
}
