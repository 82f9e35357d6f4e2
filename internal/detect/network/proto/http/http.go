// Package http parses the first request and response head of a cleartext
// HTTP/1.x flow: method, target, Host, User-Agent, Upgrade (WebSocket) and
// the status code, which is what identifies CONNECT proxies, WebSocket
// tunnels and tool user agents.
package http

import (
	"bytes"
	"errors"
	"strconv"
)

// Request is the head of an HTTP request.
type Request struct {
	Method, Target, Proto string
	Host, UserAgent       string
	Upgrade               string
	WebSocketProtocol     string // Sec-WebSocket-Protocol
}

// Response is the status line and the headers the engine uses.
type Response struct {
	Status  int
	Server  string
	Upgrade string
	// Body is what follows the header block in the captured bytes.
	Body []byte
}

// ErrNotHTTP means the bytes do not start with an HTTP/1.x head.
var ErrNotHTTP = errors.New("not an HTTP/1 message")

var methods = []string{"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "PATCH", "TRACE"}

// ParseRequest parses a request head; the head may be cut off.
func ParseRequest(b []byte) (*Request, []byte, error) {
	line, rest, ok := cutLine(b)
	if !ok {
		return nil, nil, ErrNotHTTP
	}
	parts := bytes.SplitN(line, []byte(" "), 3)
	if len(parts) != 3 || !bytes.HasPrefix(parts[2], []byte("HTTP/1.")) {
		return nil, nil, ErrNotHTTP
	}
	known := false
	for _, m := range methods {
		if string(parts[0]) == m {
			known = true
		}
	}
	if !known {
		return nil, nil, ErrNotHTTP
	}
	r := &Request{Method: string(parts[0]), Target: clean(parts[1]), Proto: string(parts[2])}
	body := headers(rest, func(k, v []byte) {
		switch {
		case bytes.EqualFold(k, []byte("Host")):
			r.Host = clean(v)
		case bytes.EqualFold(k, []byte("User-Agent")):
			r.UserAgent = clean(v)
		case bytes.EqualFold(k, []byte("Upgrade")):
			r.Upgrade = clean(v)
		case bytes.EqualFold(k, []byte("Sec-WebSocket-Protocol")):
			r.WebSocketProtocol = clean(v)
		}
	})
	return r, body, nil
}

// ParseResponse parses a response head; the head may be cut off.
func ParseResponse(b []byte) (*Response, error) {
	line, rest, ok := cutLine(b)
	if !ok || !bytes.HasPrefix(line, []byte("HTTP/1.")) || len(line) < 12 {
		return nil, ErrNotHTTP
	}
	code, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return nil, ErrNotHTTP
	}
	r := &Response{Status: code}
	r.Body = headers(rest, func(k, v []byte) {
		switch {
		case bytes.EqualFold(k, []byte("Server")):
			r.Server = clean(v)
		case bytes.EqualFold(k, []byte("Upgrade")):
			r.Upgrade = clean(v)
		}
	})
	return r, nil
}

// headers calls fn for each header line and returns the bytes after the
// blank line (nil when the head is incomplete).
func headers(b []byte, fn func(k, v []byte)) []byte {
	for {
		line, rest, ok := cutLine(b)
		if !ok {
			return nil
		}
		b = rest
		if len(line) == 0 {
			return b
		}
		if i := bytes.IndexByte(line, ':'); i > 0 {
			fn(bytes.TrimSpace(line[:i]), bytes.TrimSpace(line[i+1:]))
		}
	}
}

func cutLine(b []byte) (line, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 || i > 8192 {
		return nil, nil, false
	}
	return bytes.TrimRight(b[:i], "\r"), b[i+1:], true
}

func clean(b []byte) string {
	if len(b) > 256 {
		b = b[:256]
	}
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c == 0x7f {
			c = '?'
		}
		out[i] = c
	}
	return string(out)
}
