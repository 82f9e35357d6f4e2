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
