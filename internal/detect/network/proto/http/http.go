// Package http parses the first request and response head of a cleartext
// HTTP/1.x flow: method, target, Host, User-Agent, Upgrade (WebSocket) and
// the status code, which is what identifies CONNECT proxies, WebSocket
// tunnels and tool user agents.
package http

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
)

// Request is the head of an HTTP request.
type Request struct {
	Method, Target, Proto string
	Host, UserAgent       string
	Upgrade               string
	WebSocketProtocol     string // Sec-WebSocket-Protocol
	// Anomalies lists what a lenient parse forgave in the request line
	// (a lowercase method, runs of spaces, no HTTP version on CONNECT, a
	// CONNECT target without port): real clients and tools differ here.
	Anomalies []string
	// ProxyAuthorization or Proxy-Connection was sent: the client knows it
	// talks to a proxy.
	ProxyHeaders bool
	// CSTP: X-CSTP-* or X-DTLS-* headers (Cisco AnyConnect / OpenConnect).
	CSTP bool
}

// AbsoluteForm reports a request target of the form http://host/… (or
// https://, ftp://): a request to a forward proxy, not to an origin server.
func (r *Request) AbsoluteForm() bool {
	t := strings.ToLower(r.Target)
	return r.Method != "CONNECT" && (strings.HasPrefix(t, "http://") || strings.HasPrefix(t, "https://") || strings.HasPrefix(t, "ftp://"))
}

// Response is the status line and the headers the engine uses.
type Response struct {
	Status  int
	Server  string
	Upgrade string
	// Via, Proxy-Agent and Proxy-Authenticate headers (what proxies add).
	Via, ProxyAgent, ProxyAuthenticate string
	// CSTP: X-CSTP-* or X-DTLS-* headers (an AnyConnect-style gateway).
	CSTP bool
	// Body is what follows the header block in the captured bytes.
	Body []byte
}

// ErrNotHTTP means the bytes do not start with an HTTP/1.x head.
var ErrNotHTTP = errors.New("not an HTTP/1 message")

var methods = []string{"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "PATCH", "TRACE",
	// Microsoft SSTP's tunnel request (MS-SSTP 2.2.2).
	"SSTP_DUPLEX_POST"}

// ParseRequest parses a request head; the head may be cut off.
func ParseRequest(b []byte) (*Request, []byte, error) {
	line, rest, ok := cutLine(b)
	if !ok {
		return nil, nil, ErrNotHTTP
	}
	parts := bytes.Fields(line)
	var anomalies []string
	if len(parts) < 2 || len(parts) > 3 {
		return nil, nil, ErrNotHTTP
	}
	method := ""
	for _, m := range methods {
		if bytes.EqualFold(parts[0], []byte(m)) {
			method = m
		}
	}
	if method == "" {
		return nil, nil, ErrNotHTTP
	}
	if string(parts[0]) != method {
		anomalies = append(anomalies, "method not in upper case")
	}
	proto := ""
	if len(parts) == 3 {
		if !bytes.HasPrefix(bytes.ToUpper(parts[2]), []byte("HTTP/1.")) {
			return nil, nil, ErrNotHTTP
		}
		proto = string(parts[2])
		if !bytes.HasPrefix(parts[2], []byte("HTTP/1.")) {
			anomalies = append(anomalies, "HTTP version not in upper case")
		}
	} else if method != "CONNECT" {
		return nil, nil, ErrNotHTTP // HTTP/0.9 or not HTTP
	} else {
		anomalies = append(anomalies, "no HTTP version")
	}
	if len(line) != len(parts[0])+len(parts[1])+len(proto)+len(parts)-1 {
		anomalies = append(anomalies, "extra white space in request line")
	}
	r := &Request{Method: method, Target: clean(parts[1]), Proto: proto}
	if method == "CONNECT" {
		if _, port, ok := strings.Cut(strings.TrimPrefix(r.Target[strings.LastIndexByte(r.Target, ']')+1:], "["), ":"); !ok || port == "" {
			anomalies = append(anomalies, "target without port")
		}
	}
	r.Anomalies = anomalies
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
		case bytes.EqualFold(k, []byte("Proxy-Authorization")), bytes.EqualFold(k, []byte("Proxy-Connection")):
			r.ProxyHeaders = true
		case cstp(k):
			r.CSTP = true
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
		case bytes.EqualFold(k, []byte("Via")):
			r.Via = clean(v)
		case bytes.EqualFold(k, []byte("Proxy-Agent")):
			r.ProxyAgent = clean(v)
		case bytes.EqualFold(k, []byte("Proxy-Authenticate")):
			r.ProxyAuthenticate = clean(v)
		case cstp(k):
			r.CSTP = true
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

// cstp reports an AnyConnect header name (X-CSTP-…, X-DTLS-…).
func cstp(k []byte) bool {
	return len(k) > 7 && (bytes.EqualFold(k[:7], []byte("X-CSTP-")) || bytes.EqualFold(k[:7], []byte("X-DTLS-")))
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
