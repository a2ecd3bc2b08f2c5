package main

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestConnAgainstNetHTTP drives conn against net/http's server in the shapes a service
// answers: a sized body, a streamed (chunked) one, no body, an error status, a server that
// closes the connection, and a POST whose body the server must see whole.
func TestConnAgainstNetHTTP(t *testing.T) {
	var posted string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sized", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{"id":"1"}`) })
	mux.HandleFunc("GET /chunked", func(w http.ResponseWriter, _ *http.Request) {
		for range 3 {
			io.WriteString(w, strings.Repeat("x", 5000))
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("GET /empty", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /missing", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", http.StatusNotFound) })
	mux.HandleFunc("GET /close", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, "bye")
	})
	mux.HandleFunc("POST /items", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		posted = r.Header.Get("Content-Type") + " " + string(b)
		w.WriteHeader(http.StatusCreated)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, tc := range []struct {
		path, body string
		ok         bool
	}{
		{"/sized", "", true}, {"/chunked", "", true}, {"/empty", "", true}, {"/missing", "", false},
		{"/close", "", true}, {"/items", `{"name":"a"}`, true},
	} {
		var body []byte
		if tc.body != "" {
			body = []byte(tc.body)
		}
		req, err := newRequest(srv.URL+tc.path, body)
		if err != nil {
			t.Fatal(err)
		}
		c := &conn{req: req, deadline: time.Now().Add(10 * time.Second)}
		for i := range 3 { // the same connection again, or a new one after a close
			ok, err := c.do()
			if err != nil || ok != tc.ok {
				t.Fatalf("%s, request %d: ok %v, err %v; want ok %v", tc.path, i, ok, err, tc.ok)
			}
		}
		c.close()
	}
	if posted != `application/json {"name":"a"}` {
		t.Errorf("the server saw the POST as %q", posted)
	}
}

// TestConnFailsOnHungServer: a server that accepts and never answers fails the request at
// the deadline instead of hanging the run.
func TestConnFailsOnHungServer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer srv.Close()
	req, _ := newRequest(srv.URL+"/", nil)
	c := &conn{req: req, deadline: time.Now().Add(200 * time.Millisecond)}
	start := time.Now()
	if ok, err := c.do(); ok || err == nil {
		t.Fatalf("ok %v, err %v; want a timeout", ok, err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("gave up after %v", waited)
	}
}

func TestReadResponseRejectsMalformed(t *testing.T) {
	for _, in := range []string{
		"", "HTTP/1.1\r\n\r\n", "SMTP 220 hello\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXX\r\n0\r\n\r\n",
	} {
		if _, _, err := readResponse(bufio.NewReader(strings.NewReader(in))); err == nil {
			t.Errorf("%q: read without an error", in)
		}
	}
	status, keep, err := readResponse(bufio.NewReader(strings.NewReader(
		"HTTP/1.0 201 Created\r\ncontent-length: 2\r\n\r\nok")))
	if status != 201 || keep || err != nil {
		t.Errorf("HTTP/1.0 response: status %d, keep %v, err %v; want 201, false, nil", status, keep, err)
	}
}
