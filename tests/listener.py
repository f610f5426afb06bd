"""A TCP listener on 127.0.0.1 that counts connections: proof that the server fetched nothing."""

from __future__ import annotations

import socket
import threading


class Listener:
    """Accepts connections on a free 127.0.0.1 port, counts them and answers each with a 500."""

    reply = b"HTTP/1.1 500 Nope\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            try:
                conn.settimeout(2)
                conn.recv(65536)
                conn.sendall(self.reply)
            except OSError:
                pass
            finally:
                conn.close()


#: The one solution a :class:`SparqlListener` gives to any SERVICE call.
ANSWERED = "http://answered.example/"
_RESULTS = (
    '{"head": {"vars": ["s", "p", "o"]}, "results": {"bindings": [{'
    f'"s": {{"type": "uri", "value": "{ANSWERED}s"}}, '
    f'"p": {{"type": "uri", "value": "{ANSWERED}p"}}, '
    f'"o": {{"type": "uri", "value": "{ANSWERED}o"}}'
    "}]}}"
).encode()


class SparqlListener(Listener):
    """A listener that answers every request as a SPARQL endpoint with one solution
    (?s ?p ?o bound to IRIs under :data:`ANSWERED`): an allow-listed SERVICE that works."""

    reply = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
        + f"Content-Length: {len(_RESULTS)}\r\nConnection: close\r\n\r\n".encode()
        + _RESULTS
    )
