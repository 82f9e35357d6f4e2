#!/usr/bin/env python3
"""An HTTPS web site for the tunnel recordings (the inner session a proxy or
VPN carries): GET /page/N answers N KiB of random bytes (a page with its
images), anything else a small HTML page. Usage: web-server.py ADDR PORT CERT KEY"""
import http.server
import os
import ssl
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("web-server: " + (fmt % args) + "\n")

    def do_GET(self):
        body = b"<html><body>ok</body></html>\n"
        ctype = "text/html"
        if self.path.startswith("/page/"):
            try:
                n = max(1, min(4096, int(self.path[6:])))
            except ValueError:
                n = 1
            body, ctype = os.urandom(n * 1024), "application/octet-stream"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    addr, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    srv = http.server.ThreadingHTTPServer((addr, port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
