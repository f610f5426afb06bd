"""Reproduce granian's WSGI stall on a pending body read, for an upstream report (issue 11, item 3).

    python bench/granian_body_stall.py [--interface wsgi|asgi] [--hold none|next|close|give-up]

A ten-line WSGI application reads each request body on a helper thread and answers 408 when it
has not arrived within 2 s (what graph.http.bodylimit does). One client sends a POST's head and
one byte of its 1,000-byte body, then nothing; another POSTs a small body every 0.1 s. Under
granian's WSGI interface (2.8.9) the 408 arrives at 2 s, but then every other request waits
until the slow client leaves (the worst lookup takes about as long as the slow client stays,
5 s here): gdb shows the GIL held by the granian thread that answered the 408, parked on a futex
in granian's code with no Python frame (``p ((PyThreadState*)
_PyRuntime.ceval.gil.last_holder._value)->native_thread_id``); the same with ``read()`` of the
whole body, with ``--runtime-mode mt``, and with the request's environ kept alive.

What stalls the worker is the request *finishing* while its body is still being read (found by
the integrator, session 9): ``--hold next`` answers the 408 with an iterator whose last
``__next__`` waits (GIL released) until the pending read ends, ``--hold close`` waits in
``close()`` instead; with either the worst other request took 0.00 s (the slow client still got
its 408 at 2.0 s; its connection then stays open until it leaves). ``--hold give-up`` waits at
most 1 s and stalls again (3.97 s). graph.http.bodylimit holds granian's 408s that way
(``_HeldAnswer``). With ``--interface asgi`` the same client is abandoned on the event loop the
way the ASGI front prototype (branch h11b) does it (``asyncio.timeout`` around ``receive()``)
and lookups are not held up.

Measured (session 9, granian 2.8.9, worst other request): none 4.98 s, next 0.00 s, close
0.01 s, give-up 3.96 s.
"""

from __future__ import annotations

import argparse
import http.client
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

APP = '''
import asyncio
from concurrent.futures import ThreadPoolExecutor, TimeoutError as Late
pool = ThreadPoolExecutor(8)

class Held:
    """The 408's body: ends once ``pending`` has (within ``wait`` seconds), in ``where``."""

    def __init__(self, pending, where, wait):
        self.pending, self.where, self.wait, self.sent = pending, where, wait, False

    def __iter__(self):
        return self

    def __next__(self):
        if not self.sent:
            self.sent = True
            return b"late"
        if self.where == "next":
            self.hold()
        raise StopIteration

    def close(self):
        if self.where == "close":
            self.hold()

    def hold(self):
        try:
            self.pending.result(timeout=self.wait)
        except Late:
            pass


def answer(environ, start_response, where, wait=None):
    size = int(environ.get("CONTENT_LENGTH") or 0)
    pending = pool.submit(environ["wsgi.input"].read, size)
    try:
        pending.result(timeout=2)
    except Late:
        late = [("Content-Length", "4"), ("Connection", "close")]
        start_response("408 Request Timeout", late)
        return [b"late"] if where is None else Held(pending, where, wait)
    start_response("200 OK", [("Content-Length", "2")])
    return [b"ok"]


def wsgi(environ, start_response):
    return answer(environ, start_response, None)


def wsgi_next(environ, start_response):
    return answer(environ, start_response, "next")


def wsgi_close(environ, start_response):
    return answer(environ, start_response, "close")


def wsgi_give_up(environ, start_response):
    return answer(environ, start_response, "next", wait=1)

async def asgi(scope, receive, send):
    try:
        async with asyncio.timeout(2):
            while (await receive()).get("more_body"):
                pass
        status = 200
    except TimeoutError:
        status = 408
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-length", b"0"), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": b""})

async def rsgi(scope, protocol):
    try:
        await asyncio.wait_for(protocol(), 2)
        status = 200
    except TimeoutError:
        status = 408
    headers = [("content-length", "0"), ("connection", "close")]
    protocol.response_bytes(status, headers, b"")
'''


def slow_client(port: int, stay: float, out: list[str]) -> None:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n ")
        sock.settimeout(stay)
        try:
            answer = sock.recv(100).split(b"\r\n")[0].decode()
            out.append(f"slow client: {answer!r} after {time.monotonic() - started:.1f} s")
            while sock.recv(100):
                pass
            out.append(f"slow client: connection closed after {time.monotonic() - started:.1f} s")
        except TimeoutError:
            out.append("slow client: no answer, or the connection held until it left")
        time.sleep(max(stay - (time.monotonic() - started), 0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interface", choices=["wsgi", "asgi", "rsgi"], default="wsgi")
    parser.add_argument(
        "--hold", choices=["none", "next", "close", "give-up"], default="none",
        help="WSGI: where the 408's answer waits for the pending read",
    )  # fmt: skip
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="granian-stall-"))
    (work / "stall_app.py").write_text(APP)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    interface = ["--interface", "wsgi", "--blocking-threads", "4"]
    app = "wsgi" if args.hold == "none" else "wsgi_" + args.hold.replace("-", "_")
    if args.interface == "asgi":
        interface, app = ["--interface", "asginl"], "asgi"
    if args.interface == "rsgi":
        interface, app = ["--interface", "rsgi"], "rsgi"
    server = subprocess.Popen(
        [sys.executable, "-m", "granian", *interface, "--workers", "1", "--no-ws",
         "--port", str(port), f"stall_app:{app}"],
        cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(2)
        said: list[str] = []
        client = threading.Thread(target=slow_client, args=(port, 7.0, said))
        client.start()
        time.sleep(0.5)
        worst, until = 0.0, time.monotonic() + 5
        while time.monotonic() < until:
            began = time.monotonic()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
            connection.request("POST", "/", body=b"abc")
            connection.getresponse().read()
            connection.close()
            worst = max(worst, time.monotonic() - began)
            time.sleep(0.1)
        client.join()
        print(*said, f"worst lookup while it stayed: {worst:.2f} s", sep="\n")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
