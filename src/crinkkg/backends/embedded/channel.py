"""Messages between the server and its workers: length-prefixed pickles on a socket pair.

Leaner than ``multiprocessing.Connection`` (no selector per wait): the reply deadline is a
socket timeout, so waiting for a worker costs one ``poll`` inside ``recv``.
"""

from __future__ import annotations

import pickle
import socket
import time

_HEADER = 8


class Timeout(Exception):
    """No complete reply before the deadline."""


def send(sock: socket.socket, message: object) -> None:
    """Send one message."""
    data = pickle.dumps(message, protocol=5)
    sock.sendall(len(data).to_bytes(_HEADER, "little") + data)


def _recv_exact(sock: socket.socket, n: int, deadline: float | None) -> bytes:
    buffer = bytearray(n)
    view = memoryview(buffer)
    got = 0
    while got < n:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Timeout()
            sock.settimeout(remaining)
        try:
            k = sock.recv_into(view[got:], n - got)
        except TimeoutError:
            raise Timeout() from None
        if k == 0:
            raise EOFError("the peer closed the connection")
        got += k
    return bytes(buffer)


def recv(sock: socket.socket, timeout: float | None = None) -> object:
    """Receive one message; :class:`Timeout` if it is not complete within ``timeout``."""
    deadline = None if timeout is None else time.monotonic() + timeout
    if deadline is None:
        sock.settimeout(None)
    size = int.from_bytes(_recv_exact(sock, _HEADER, deadline), "little")
    return pickle.loads(_recv_exact(sock, size, deadline))
