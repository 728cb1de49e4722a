"""Serve an `httpx.MockTransport`-style handler over real HTTP on 127.0.0.1.

The same handler then answers both a mock transport and a real socket, so a test over
127.0.0.1 checks exactly what the mock-transport tests check, through a real connection.
"""

import contextlib
import http.server
import socket
import threading
from collections.abc import Callable, Iterator

import httpx

Handler = Callable[[httpx.Request], httpx.Response]


@contextlib.contextmanager
def serve(handler: Handler) -> Iterator[str]:
    """Answer HTTP on a free port of 127.0.0.1 with `handler`, in a thread; yields the URL."""

    class Adapter(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.do_POST(method="GET")

        def do_POST(self, method: str = "POST") -> None:
            length = int(self.headers.get("Content-Length", "0"))
            request = httpx.Request(
                method,
                f"http://{self.headers['Host']}{self.path}",
                headers=dict(self.headers.items()),
                content=self.rfile.read(length),
            )
            response = handler(request)
            response.read()
            self.send_response(response.status_code)
            for name, value in response.headers.items():
                if name.lower() not in {"content-length", "transfer-encoding"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.content)))
            self.end_headers()
            self.wfile.write(response.content)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib's name
            del format, args  # quiet: the tests read requests, not logs

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Adapter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextlib.contextmanager
def silent() -> Iterator[tuple[str, threading.Event]]:
    """An endpoint on 127.0.0.1 that accepts every connection and never answers.

    Yields its URL and an event set once a connection came; the connections are closed
    when the block ends.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    connected = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:  # the listener closed: the block is over
                return
            connected.set()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", connected
    finally:
        listener.close()
        for connection in held:
            connection.close()
