#!/usr/bin/env python3
"""A recorded-exchange stub of the commit status APIs (GitHub, Gitea, GitLab,
Bitbucket Cloud's build statuses),
for tidegated's tests: it answers every POST with the 201 and JSON body the
real API documents, and appends each request (method, path, the headers that
matter, body) as one JSON line to the record file.

usage: status-stub.py PORT RECORD_FILE
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

port, record = int(sys.argv[1]), sys.argv[2]


class Stub(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        with open(record, "a") as f:
            f.write(json.dumps({
                "method": "POST", "path": self.path, "body": body,
                "authorization": self.headers.get("Authorization"),
                "private_token": self.headers.get("PRIVATE-TOKEN"),
                "user_agent": self.headers.get("User-Agent"),
            }) + "\n")
        answer = json.dumps({"id": 1, "state": "pending", "context": "tidegate"}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", port), Stub).serve_forever()
