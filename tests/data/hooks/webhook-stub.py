#!/usr/bin/env python3
"""A stub of tidegated's generic webhook endpoint, for the hook tests only.

usage: webhook-stub.py PORT SECRET_FILE LOG_FILE [MODE]
MODE: ok (202), fail (500), reject (401), hang (never answers).
Each request becomes one JSON line in LOG_FILE: path, headers that
matter, whether the signature verified, and the body. Writes
LOG_FILE.ready once it listens.
"""
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, secret_file, log_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
mode = sys.argv[4] if len(sys.argv) > 4 else "ok"
secret = open(secret_file, "rb").read().rstrip(b"\r\n")
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        ts = self.headers.get("X-Tidegate-Timestamp", "")
        sig = self.headers.get("X-Tidegate-Signature", "")
        want = "sha256=" + hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        rec = {
            "path": self.path,
            "event": self.headers.get("X-Tidegate-Event"),
            "delivery": self.headers.get("X-Tidegate-Delivery"),
            "content_type": self.headers.get("Content-Type"),
            "signature_ok": hmac.compare_digest(sig, want),
            "fresh": ts.isdigit() and abs(time.time() - int(ts)) < 300,
            "body": json.loads(body),
        }
        with lock, open(log_file, "a") as f:
            f.write(json.dumps(rec) + "\n")
        if mode == "hang":
            time.sleep(30)
            return
        code = {"ok": 202, "fail": 500, "reject": 401}[mode]
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()


srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
srv.daemon_threads = True
open(log_file + ".ready", "w").close()
srv.serve_forever()
