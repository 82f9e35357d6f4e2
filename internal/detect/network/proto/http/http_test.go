package http

import "testing"

func TestRequestResponse(t *testing.T) {
	r, body, err := ParseRequest([]byte("CONNECT apache.org:443 HTTP/1.1\r\nHost: apache.org:443\r\nUser-Agent: curl/8.0\r\n\r\n\x16\x03\x01"))
	if err != nil || r.Method != "CONNECT" || r.Target != "apache.org:443" || r.Host != "apache.org:443" || r.UserAgent != "curl/8.0" {
		t.Fatalf("%+v %v", r, err)
	}
	if string(body) != "\x16\x03\x01" {
		t.Errorf("body %q", body)
	}
	resp, err := ParseResponse([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x82\x05hello"))
	if err != nil || resp.Status != 101 || resp.Upgrade != "websocket" || len(resp.Body) != 7 {
		t.Fatalf("%+v %v", resp, err)
	}
	for _, bad := range []string{"", "SSH-2.0-x\r\n", "FOO / HTTP/1.1\r\n", "GET /\r\n"} {
		if _, _, err := ParseRequest([]byte(bad)); err == nil {
			t.Errorf("%q parsed as request", bad)
		}
	}
}

func TestWebSocketProtocol(t *testing.T) {
	r, _, err := ParseRequest([]byte("GET /v1/events HTTP/1.1\r\nhost: localhost:8888\r\nupgrade: websocket\r\nsec-websocket-protocol: v1, authorization.bearer.eyJ0\r\n\r\n"))
	if err != nil || r.Upgrade != "websocket" || r.WebSocketProtocol != "v1, authorization.bearer.eyJ0" || r.Host != "localhost:8888" {
		t.Fatalf("%+v %v", r, err)
	}
}

func FuzzHTTP(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nServer: y\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = ParseRequest(b)
		_, _ = ParseResponse(b)
	})
}

func TestLenientProxyRequests(t *testing.T) {
	for _, c := range []struct {
		in, method, target string
		anomalies          int
		absolute           bool
	}{
		// squid's own clients (curl -x) in absolute form; curl --proxy1.0.
		{"GET http://10.210.1.2:8000/index.html HTTP/1.1\r\nHost: 10.210.1.2:8000\r\nProxy-Connection: Keep-Alive\r\n\r\n", "GET", "http://10.210.1.2:8000/index.html", 0, true},
		{"CONNECT 10.210.1.2:8000 HTTP/1.0\r\nHost: 10.210.1.2:8000\r\n\r\n", "CONNECT", "10.210.1.2:8000", 0, false},
		{"connect example.org:443 HTTP/1.1\r\n\r\n", "CONNECT", "example.org:443", 1, false},
		{"CONNECT example.org:443\r\n\r\n", "CONNECT", "example.org:443", 1, false},
		{"CONNECT  example.org  HTTP/1.1\r\n\r\n", "CONNECT", "example.org", 2, false},
		{"post HTTP://x/y http/1.1\r\n\r\n", "POST", "HTTP://x/y", 2, true},
		{"SSTP_DUPLEX_POST /sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/ HTTP/1.1\r\nHost: vpn\r\n\r\n", "SSTP_DUPLEX_POST", "/sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/", 0, false},
	} {
		r, _, err := ParseRequest([]byte(c.in))
		if err != nil || r.Method != c.method || r.Target != c.target || len(r.Anomalies) != c.anomalies || r.AbsoluteForm() != c.absolute {
			t.Errorf("%q: %+v %v", c.in, r, err)
		}
	}
	r, _, _ := ParseRequest([]byte("CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\nX-CSTP-Version: 1\r\n\r\n"))
	if r == nil || !r.CSTP {
		t.Errorf("AnyConnect headers: %+v", r)
	}
	resp, err := ParseResponse([]byte("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\nVia: 1.1 farm (squid/5.7)\r\n\r\n"))
	if err != nil || resp.Status != 407 || resp.ProxyAuthenticate == "" || resp.Via != "1.1 farm (squid/5.7)" {
		t.Fatalf("%+v %v", resp, err)
	}
}
