"""A local HTTP mirror of the MNIST files that misbehaves on request.

:func:`serve` runs a real HTTP server on 127.0.0.1, in a thread, serving the
files of a directory under ``/<behaviour>/<file name>``: ``good/`` as a
mirror should, the others (see :class:`_MirrorHandler`) failing as real
mirrors and networks fail. The ``mirror`` fixture of ``conftest.py`` serves
the real MNIST files with it.
"""

import collections
import contextlib
import functools
import gzip
import http.server
import os
import socket
import struct
import threading
import time
from pathlib import Path

# The four files fetch_mnist reads, as the mirrors name them.
MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


class _MirrorHandler(http.server.BaseHTTPRequestHandler):
    """Serves the MNIST files under ``/<behaviour>/<file name>``.

    Behaviours: ``good``; ``403``; ``truncated`` (announces the full length,
    sends half); ``wrong`` (a valid gzip of bytes with one pixel changed, so
    the checksum fails); ``drop`` (resets the connection mid-transfer);
    ``stall`` (sends half, then nothing for longer than any test's timeout);
    ``flaky`` (503 on every other request); ``endless`` (the file, then zeros
    without end and without a Content-Length); ``endless-length`` (the same,
    announcing a Content-Length of a terabyte); ``trickle`` (the file, one byte
    every ``trickle_interval`` seconds). Anything else is a 404.

    The endless and trickling ones stop by themselves: after ``endless_bytes``
    bytes or ``endless_seconds`` seconds, and after ``trickle_seconds``.
    """

    directory = None
    stall_seconds = 5.0
    endless_bytes = 50 * 2**20
    endless_seconds = 60.0
    trickle_interval = 0.2
    trickle_seconds = 60.0
    _requests = collections.Counter()

    def do_GET(self):
        _, behaviour, name = (self.path.split("/", 2) + ["", ""])[:3]
        path = Path(self.directory) / Path(name).name
        if behaviour == "403":
            return self.send_error(403, "Forbidden")
        if behaviour == "flaky":
            self._requests[name] += 1
            if self._requests[name] % 2:
                return self.send_error(503, "Service Unavailable")
        if not path.is_file() or behaviour not in _BEHAVIOURS:
            return self.send_error(404, "Not Found")
        body = _wrong_bytes(path) if behaviour == "wrong" else path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/gzip")
        if behaviour == "endless-length":
            self.send_header("Content-Length", str(2**40))
        elif behaviour != "endless":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.close_connection = True
        try:
            if behaviour.startswith("endless"):
                return self._endless(body)
            if behaviour == "trickle":
                return self._trickle(body)
        except OSError:  # the client gave up: what these behaviours wait for
            return
        if behaviour in ("good", "wrong", "flaky"):
            self.wfile.write(body)
            return
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        if behaviour == "stall":
            time.sleep(self.stall_seconds)
        elif behaviour == "drop":
            # SO_LINGER 0 makes close() reset the connection. Close the file
            # descriptor here: the server would otherwise end the connection
            # in order (FIN) before the reset, and the client might read that.
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            os.close(self.connection.detach())
        self.close_connection = True

    def _endless(self, body):
        self.wfile.write(body)
        zeros = bytes(2**16)
        sent, deadline = len(body), time.monotonic() + self.endless_seconds
        while sent < self.endless_bytes and time.monotonic() < deadline:
            self.wfile.write(zeros)
            sent += len(zeros)

    def _trickle(self, body):
        deadline = time.monotonic() + self.trickle_seconds
        for i in range(len(body)):
            if time.monotonic() > deadline:
                return
            self.wfile.write(body[i : i + 1])
            self.wfile.flush()
            time.sleep(self.trickle_interval)

    def log_message(self, *args):
        pass


_BEHAVIOURS = (
    "good",
    "truncated",
    "wrong",
    "drop",
    "stall",
    "flaky",
    "endless",
    "endless-length",
    "trickle",
)


@functools.lru_cache
def _wrong_bytes(path):
    data = bytearray(gzip.decompress(path.read_bytes()))
    data[-1] ^= 0xFF
    return gzip.compress(bytes(data), compresslevel=1)


@contextlib.contextmanager
def serve(directory):
    """Serve the files of ``directory``; yield the server's base URL.

    ``base + "good/"`` serves the files, and the other behaviours of
    :class:`_MirrorHandler` misbehave in their own way.
    """
    handler = type(
        "Handler",
        (_MirrorHandler,),
        {"directory": str(directory), "_requests": collections.Counter()},
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
