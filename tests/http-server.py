#!/usr/bin/env python3
# http-server.py -- the loopback HTTP(S) server the http plugin's tests run against: delays, statuses, JSON, redirects, drops, trickles, Retry-After, echoes.
"""Usage: http-server.py [--cert CERT --key KEY] [--mode keep-alive|close|1.0]

Listens on 127.0.0.1 on ephemeral ports and prints "PORT" (or "PORT TLSPORT"
with --cert/--key) on one line of standard output, then serves until killed.

--mode is how it answers, as real servers do:
  keep-alive  HTTP/1.1, the connection stays open for the next request (default)
  close       HTTP/1.1 with `Connection: close`: one request per connection
  1.0         HTTP/1.0: one request per connection

Endpoints (GET unless said; every one answers with Content-Length):
  /status/N                 status N, body "status N"
  /delay?ms=100             200 "ok" after ms milliseconds
  /json/NAME                a canned JSON document (see DOCS); /json/invalid is not JSON
  /redirect?to=/status/200  302 to `to`; /redirect?n=3 redirects n times, then 200
  /drop                     closes the connection without a response
  /trickle?bytes=10&ms=100  200, Content-Length bytes, one byte every ms
  /retry-after?key=K&n=2&after=1[&date=1][&code=503]
                            the first n requests of key K: 429 (or code) with
                            Retry-After: after (seconds, or an HTTP date with
                            date=1); then 200 "ok"
  /header?name=X&value=V    200 with header X: V
  /headers                  the request's headers as a JSON object
  /echo                     any method: {"method", "path", "query", "headers", "body"}
  /log?key=K                the monotonic times (s) of every request that had key=K
Any request with a key=K query parameter is logged under K.
"""
import argparse
import email.utils
import http.server
import json
import socket
import ssl
import sys
import threading
import time
import urllib.parse

DOCS = {
    "basic": {
        "enabled": True,
        "count": 3,
        "ratio": 0.5,
        "name": "assay",
        "nothing": None,
        "tags": ["x", "y"],
        "items": [{"name": "a", "v": 1}, {"name": "b", "v": 2}],
        "nested": {"a.b": "dotted", "deep": {"er": [10, 20, 30]}},
        "empty": {},
        "unicode": "h\u00e9llo",
    },
    "array": [1, 2, 3],
}

log_lock = threading.Lock()
request_log = {}   # key -> [monotonic times]
retry_counts = {}  # key -> requests seen by /retry-after


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # "HTTP/1.0" for --mode 1.0
    server_version = "assay-test/1"
    close_always = False           # --mode close

    def end_headers(self):
        if self.close_always:
            self.send_header("Connection", "close")
            self.close_connection = True
        super().end_headers()

    def log_message(self, fmt, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            # The handshake here, on this connection's thread: in the
            # accept loop a slow or failing client would stall everyone.
            self.connection.settimeout(10)
            self.connection.do_handshake()
            self.connection.settimeout(None)

    def send(self, code, body=b"", ctype="text/plain", headers=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        if "key" in q and not url.path.startswith("/log"):
            with log_lock:
                request_log.setdefault(q["key"], []).append(time.monotonic())
        parts = url.path.strip("/").split("/")
        head = parts[0]
        body = self.read_body()

        if head == "status" and len(parts) == 2:
            code = int(parts[1])
            self.send(code, "status %d" % code)
        elif head == "delay":
            time.sleep(int(q.get("ms", "100")) / 1000)
            self.send(200, "ok")
        elif head == "json" and len(parts) == 2:
            if parts[1] == "invalid":
                self.send(200, '{"a": 1,', "application/json")
            else:
                self.send(200, json.dumps(DOCS[parts[1]]), "application/json; charset=utf-8")
        elif head == "redirect":
            n = int(q.get("n", "1"))
            to = q.get("to")
            if to is None:
                to = "/redirect?n=%d" % (n - 1) if n > 1 else "/status/200"
            self.send(302, "see " + to, headers=[("Location", to)])
        elif head == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif head == "trickle":
            n = int(q.get("bytes", "10"))
            ms = int(q.get("ms", "100"))
            self.send_response(200)
            self.send_header("Content-Length", str(n))
            self.end_headers()
            self.wfile.flush()
            for _ in range(n):
                time.sleep(ms / 1000)
                self.wfile.write(b"x")
                self.wfile.flush()
        elif head == "retry-after":
            key = q.get("key", "")
            with log_lock:
                seen = retry_counts.get(key, 0)
                retry_counts[key] = seen + 1
            if seen < int(q.get("n", "1")):
                after = q.get("after", "1")
                if q.get("date"):
                    after = email.utils.formatdate(time.time() + float(after), usegmt=True)
                self.send(int(q.get("code", "429")), "slow down", headers=[("Retry-After", after)])
            else:
                self.send(200, "ok")
        elif head == "header":
            self.send(200, "ok", headers=[(q.get("name", "X-Test"), q.get("value", ""))])
        elif head == "headers":
            self.send(200, json.dumps(dict(self.headers.items())), "application/json")
        elif head == "echo":
            self.send(200, json.dumps({
                "method": self.command,
                "path": url.path,
                "query": url.query,
                "headers": dict(self.headers.items()),
                "body": body.decode("utf-8", "replace"),
            }), "application/json")
        elif head == "log":
            with log_lock:
                times = list(request_log.get(q.get("key", ""), []))
            self.send(200, json.dumps(times), "application/json")
        else:
            self.send(404, "no such endpoint")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = handle_any

    def do_HEAD(self):
        self.handle_any()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 4096  # a thousand checks connect at once

    def handle_error(self, request, client_address):
        pass  # dropped and refused connections are the point of some tests


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--mode", choices=("keep-alive", "close", "1.0"), default="keep-alive")
    args = ap.parse_args()
    if args.mode == "1.0":
        Handler.protocol_version = "HTTP/1.0"
    Handler.close_always = args.mode == "close"

    plain = Server(("127.0.0.1", 0), Handler)
    ports = [plain.server_address[1]]
    servers = [plain]
    if args.cert:
        tls = Server(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        tls.socket = ctx.wrap_socket(tls.socket, server_side=True, do_handshake_on_connect=False)
        ports.append(tls.server_address[1])
        servers.append(tls)
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print(" ".join(map(str, ports)), flush=True)
    try:
        plain.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
