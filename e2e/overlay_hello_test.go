package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestOverlayHelloPlugsIn is issue K's plug-in proof: examples/overlays/hello adds a component
// in a group of its own (extras) that wires GET /hello, HELLO_GREETING and a readiness check
// into a service through core's slots only. Added to a service it builds, vets, passes its
// tests and serves the route; removed, the service builds again and the route is gone.
func TestOverlayHelloPlugsIn(t *testing.T) {
	overlay, err := filepath.Abs(filepath.Join("..", "examples", "overlays", "hello"))
	if err != nil {
		t.Fatal(err)
	}
	if out := svcgen(t, "components", "--templates", overlay); !strings.Contains(out, "Extras (--extras, default none)") || !strings.Contains(out, "hello  GET /hello") {
		t.Fatalf("components --templates %s does not list hello in extras:\n%s", overlay, out)
	}

	dir := filepath.Join(t.TempDir(), "greeter")
	svcgen(t, append([]string{"new", "greeter", "--module", "example.com/greeter", "--framework", "echo", "--templates", overlay, "--extras", "none", "-o", dir}, coreFlags...)...)
	if code := statusOf(t, dir, "greeter", nil, "/hello"); code != 404 {
		t.Fatalf("GET /hello before add hello = %d, want 404", code)
	}

	svcgen(t, "add", "hello", "-C", dir)
	checkService(t, dir, nil)
	s := startService(t, dir, "greeter", []string{"HELLO_GREETING=Grüß dich!"})
	code, ctype, body := s.do(t, "GET", "/hello", "")
	var hello struct{ Greeting string }
	if code != 200 || !strings.HasPrefix(ctype, "application/json") || json.Unmarshal([]byte(body), &hello) != nil || hello.Greeting != "Grüß dich!" {
		t.Fatalf("GET /hello = %d %s %s, want 200 and the greeting of HELLO_GREETING", code, ctype, body)
	}
	if code, _, body := s.do(t, "GET", "/readyz", ""); code != 200 || !strings.Contains(body, `"hello"`) {
		t.Errorf("/readyz = %d %s, want 200 with the hello check", code, body)
	}
	if code, _, _ := s.do(t, "POST", "/hello", ""); code != 405 {
		t.Errorf("POST /hello = %d, want 405 (the route is GET only)", code)
	}
	s.stop(t)

	svcgen(t, "remove", "hello", "-C", dir)
	inService(t, dir, nil, "go", "build", "./...")
	if code := statusOf(t, dir, "greeter", nil, "/hello"); code != 404 {
		t.Fatalf("GET /hello after remove hello = %d, want 404", code)
	}
}

// statusOf starts the service in dir, answers the status of GET path and stops it.
func statusOf(t *testing.T, dir, name string, env []string, path string) int {
	t.Helper()
	s := startService(t, dir, name, env)
	defer s.stop(t)
	code, _, _ := s.do(t, "GET", path, "")
	return code
}
