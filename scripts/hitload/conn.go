package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"
)

// request is one prepared HTTP/1.1 request: the bytes every send writes, and where to.
type request struct {
	addr string // host:port
	raw  []byte
}

// newRequest prepares the GET of rawURL, or the POST of body as application/json when body
// is not nil. Only plain http: the benchmarks load servers on the loopback interface.
func newRequest(rawURL string, body []byte) (request, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return request{}, err
	}
	if u.Scheme != "http" || u.Host == "" {
		return request{}, fmt.Errorf("-url %q: want http://host:port/path", rawURL)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	var b bytes.Buffer
	method := "GET"
	if body != nil {
		method = "POST"
	}
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: hitload\r\n", method, u.RequestURI(), u.Host)
	if body != nil {
		fmt.Fprintf(&b, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	return request{addr: addr, raw: b.Bytes()}, nil
}

// conn is one keep-alive connection that sends a request and reads its response, and
// nothing more: no header map, no goroutine per connection beyond its caller's, no
// allocation per response. The client shares the machine with the server it measures;
// net/http's client spent as much CPU per request as the server did (about 45 µs per
// read hit here), which came out of the server's throughput and into its tail latency.
type conn struct {
	req      request
	deadline time.Time // no read or write past it: a server that hangs fails the run, not hangs it
	c        net.Conn
	r        *bufio.Reader
}

// do sends the request and reads the whole response, reconnecting first when the last
// response closed the connection or failed. It reports whether the status was 2xx.
func (c *conn) do() (bool, error) {
	if c.c == nil {
		nc, err := net.Dial("tcp", c.req.addr)
		if err != nil {
			return false, err
		}
		if err := nc.SetDeadline(c.deadline); err != nil {
			nc.Close()
			return false, err
		}
		c.c = nc
		if c.r == nil {
			c.r = bufio.NewReaderSize(nc, 16<<10)
		} else {
			c.r.Reset(nc)
		}
	}
	if _, err := c.c.Write(c.req.raw); err != nil {
		c.close()
		return false, err
	}
	status, keep, err := readResponse(c.r)
	if err != nil || !keep {
		c.close()
	}
	return status >= 200 && status < 300, err
}

func (c *conn) close() {
	if c.c != nil {
		c.c.Close()
		c.c = nil
	}
}

var errMalformed = errors.New("malformed response")

// readResponse reads one HTTP/1.1 response from r, body included (Content-Length or
// chunked), and returns its status and whether the connection stays open.
func readResponse(r *bufio.Reader) (status int, keep bool, err error) {
	line, err := readLine(r)
	if err != nil {
		return 0, false, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, errMalformed
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, errMalformed
	}
	keep = line[7] == '1'
	length, chunked := int64(-1), false
	for {
		line, err = readLine(r)
		if err != nil {
			return status, false, err
		}
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return status, false, errMalformed
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil || length < 0 {
				return status, false, errMalformed
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				keep = false
			}
		}
	}
	switch {
	case status == 204 || status == 304 || status < 200:
		return status, keep, nil
	case chunked:
		return status, keep, discardChunked(r)
	case length >= 0:
		_, err = r.Discard(int(length))
		return status, keep, err
	default: // the body runs to the end of the connection
		_, err = io.Copy(io.Discard, r)
		return status, false, err
	}
}

// discardChunked reads a chunked body and its trailer.
func discardChunked(r *bufio.Reader) error {
	for {
		line, err := readLine(r)
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(line, []byte(";"))
		n, err := strconv.ParseInt(string(bytes.TrimSpace(size)), 16, 64)
		if err != nil || n < 0 {
			return errMalformed
		}
		if n == 0 {
			for { // the trailer, up to its blank line
				if line, err = readLine(r); err != nil || len(line) == 0 {
					return err
				}
			}
		}
		if _, err := r.Discard(int(n)); err != nil {
			return err
		}
		if line, err = readLine(r); err != nil {
			return err
		}
		if len(line) != 0 { // a chunk ends with CRLF
			return errMalformed
		}
	}
}

// readLine returns the next line without its CRLF; the slice is valid until the next read.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, errMalformed
		}
		return nil, err
	}
	return bytes.TrimSuffix(line[:len(line)-1], []byte("\r")), nil
}
