#!/usr/bin/env python3
"""http_token_symbol.py - a /debug/pprof endpoint that wants a token, for
tests/e2e/http_token_symbol.sh (a helper, not a test: tests/run.sh runs *.sh).

Serves /debug/pprof/profile: a profile whose one location (0x401234 in
/opt/fake/prog) has no name, so pprof clients ask /debug/pprof/symbol for it;
the symbol endpoint answers "0x401234 remote_named_fn". Every request needs
the token, as "Authorization: Bearer <t>" or token=<t>, else 401 with
X-Go-Pprof. Each request is logged (path, authorized or not) to LOG.

Usage: http_token_symbol.py TOKEN PORTFILE LOG
"""
import gzip
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pbwire import varint

TOKEN, PORTFILE, LOG = sys.argv[1], sys.argv[2], sys.argv[3]


def field(num, value):
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    return varint(num << 3 | 2) + varint(len(value)) + value


def profile():
    strings = ["", "samples", "count", "/opt/fake/prog"]
    vt = field(1, 1) + field(2, 2)
    sample = field(1, 1) + field(2, 7)
    mapping = field(1, 1) + field(2, 0x400000) + field(3, 0x500000) + field(5, 3)
    location = field(1, 1) + field(2, 1) + field(3, 0x401234)
    body = field(1, vt) + field(2, sample) + field(3, mapping) + field(4, location)
    for s in strings:
        body += field(6, s.encode())
    body += field(11, vt) + field(12, 1)
    return gzip.compress(body)


class Handler(BaseHTTPRequestHandler):
    def authorized(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        return self.headers.get("Authorization", "") == "Bearer " + TOKEN or q.get("token") == [TOKEN]

    def reply(self, status, body, ctype="text/plain; charset=utf-8"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if status != 200:
            self.send_header("X-Go-Pprof", "1")
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self, body):
        ok = self.authorized()
        path = urllib.parse.urlparse(self.path).path
        with open(LOG, "a") as f:
            f.write("%s %s %s\n" % (self.command, path, "authorized" if ok else "refused"))
        if not ok:
            return self.reply(401, b"unauthorized: this endpoint needs its token\n")
        if path == "/debug/pprof/profile":
            return self.reply(200, profile(), "application/octet-stream")
        if path == "/debug/pprof/symbol":
            if not body:
                return self.reply(200, b"num_symbols: 1\n")
            lines = [a + " remote_named_fn" for a in body.decode().split("+") if a == "0x401234"]
            return self.reply(200, ("\n".join(lines) + "\n").encode())
        return self.reply(404, b"404 page not found\n")

    def do_GET(self):
        self.handle_any(b"")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.handle_any(self.rfile.read(n))

    def log_message(self, *args):
        pass


srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
