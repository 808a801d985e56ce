"""The witness's HTTP face (stdlib server: one POST route, bounded bodies, no content logged)."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from services.evidence.witness import MAX_BODY, Answer, Witness


def make_server(witness: Witness, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/add-checkpoint":
                return self._send(Answer(404, b"not found\n"))
            try:
                length = int(self.headers.get("Content-Length", "-1"))
            except ValueError:
                length = -1
            if length < 0:
                return self._send(Answer(411, b"Content-Length required\n"))
            if length > MAX_BODY:
                return self._send(Answer(413, b"request body too large\n"))
            self._send(witness.add_checkpoint(self.rfile.read(length)))

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/vkey":
                return self._send(Answer(200, (witness.public.vkey() + "\n").encode()))
            self._send(Answer(404, b"not found\n"))

        def _send(self, answer: Answer) -> None:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # request lines only; nothing else is worth a log line per call

    return ThreadingHTTPServer((host, port), Handler)
