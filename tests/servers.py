"""Helpers for tests that start a server as a subprocess (the app, dbt docs) and talk to it."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, server: subprocess.Popen, seconds: int) -> bytes:
    """The body of url once the server answers it (the server must keep running meanwhile)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url) as reply:
                return reply.read()
        except OSError:
            assert server.poll() is None, server.stdout.read()
            assert time.monotonic() < deadline, f"{url} did not answer in {seconds} s"
            time.sleep(0.5)
