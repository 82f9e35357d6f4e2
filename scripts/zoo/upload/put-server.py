#!/usr/bin/env python3
"""A file-drop HTTPS server (as a cloud drive's upload endpoint): PUT or POST
stores nothing, reads the body (Content-Length or chunked) and answers 201
with the byte count. Usage: put-server.py ADDR PORT CERT KEY"""
import http.server
import ssl
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("put-server: " + (fmt % args) + "\n")

    def _body(self):
        n = 0
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return n
                while size > 0:
                    b = self.rfile.read(min(size, 65536))
                    if not b:
                        return n
                    n += len(b)
                    size -= len(b)
                self.rfile.readline()
        left = int(self.headers.get("Content-Length", "0"))
        while left > 0:
            b = self.rfile.read(min(left, 65536))
            if not b:
                break
            n += len(b)
            left -= len(b)
        return n

    def do_PUT(self):
        if self.headers.get("Expect", "").lower() == "100-continue":
            self.send_response_only(100)
            self.end_headers()
        n = self._body()
        body = ('{"stored": %d}\n' % n).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_PUT


def main():
    addr, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    srv = http.server.ThreadingHTTPServer((addr, port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
