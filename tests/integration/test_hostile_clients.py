"""Clients that break HTTP or go slow, against both functions on the real functions-framework (gunicorn).

Raw sockets, because an HTTP client library will not send broken framing: a bad chunk size, a missing CRLF
after a chunk, a body cut short, an endless chunked body, a Content-Length promising 200 MiB, and clients
that send a few bytes of their body and then stall on every server thread. Each gets its 4xx; none gets a
500, none grows the process, and a well-behaved request is still answered while the slow ones hang.
"""

from __future__ import annotations

import base64
import os
import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack.parts import free_port

from .served import ServedFunction, read_answer_head, start_function

pytestmark = pytest.mark.integration

THREADS = 4
BODY_DEADLINE_SECONDS = 1.0
ANSWER_TIMEOUT_SECONDS = 30.0


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


@pytest.fixture(scope="module", params=["order_webhook", "status_update"])
def function(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedFunction]:
    name = request.param
    settings = {
        # Nothing listens on these ports: a request that got this far would be answered 503.
        "MEDUSA_BACKEND_URL": f"http://127.0.0.1:{free_port()}",
        "MEDUSA_STATUS_SECRET": new_secret(),
        "ZEEBE_ADDRESS": f"127.0.0.1:{free_port()}",
        "ORDER_WEBHOOK_SECRET" if name == "order_webhook" else "STATUS_UPDATE_SECRET": new_secret(),
        "HTTP_BODY_DEADLINE_SECONDS": str(BODY_DEADLINE_SECONDS),
        "THREADS": str(THREADS),
    }
    served = start_function(name, settings, log_path=tmp_path_factory.mktemp("hostile") / f"{name}.log")
    yield served
    output = served.output()
    assert served.stop() == 0, output
    assert '"severity": "ERROR"' not in output, output
    assert "Traceback" not in output, output


def connect(function: ServedFunction) -> socket.socket:
    return socket.create_connection(("127.0.0.1", function.port), timeout=ANSWER_TIMEOUT_SECONDS)


def head(extra: str) -> bytes:
    return f"POST / HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n{extra}\r\n".encode()


def read_status(connection: socket.socket) -> int:
    return read_answer_head(connection)[0]


def exchange(function: ServedFunction, raw: bytes, *, close_write: bool = False) -> int:
    with connect(function) as connection:
        connection.sendall(raw)
        if close_write:
            connection.shutdown(socket.SHUT_WR)
        return read_status(connection)


@pytest.mark.parametrize(
    ("name", "raw", "close_write"),
    [
        ("bad chunk size", head("Transfer-Encoding: chunked\r\n") + b"zz\r\n{}\r\n0\r\n\r\n", False),
        ("missing CRLF after a chunk", head("Transfer-Encoding: chunked\r\n") + b"2\r\n{}XX0\r\n\r\n", False),
        ("chunked body cut short", head("Transfer-Encoding: chunked\r\n") + b'10\r\n{"a":', True),
        ("length body cut short", head("Content-Length: 100\r\n") + b'{"a":', True),
    ],
)
def test_broken_framing_is_400(function: ServedFunction, name: str, raw: bytes, close_write: bool) -> None:
    assert exchange(function, raw, close_write=close_write) == 400, name


def test_a_content_length_over_the_limit_is_413_before_any_body_is_sent(function: ServedFunction) -> None:
    assert exchange(function, head(f"Content-Length: {200 * 1024 * 1024}\r\n")) == 413


def worker_pid(function: ServedFunction) -> int:
    children = Path(f"/proc/{function.process.pid}/task/{function.process.pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def resident_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_an_endless_chunked_body_is_413_without_being_read(function: ServedFunction) -> None:
    pid = worker_pid(function)
    before = resident_mib(pid)
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, b" " * 64 * 1024)
    sent = 0
    with connect(function) as connection:
        connection.sendall(head("Transfer-Encoding: chunked\r\n"))
        # Keep sending until the answer arrives or the server stops reading (up to 200 MiB).
        while sent < 200 * 1024 * 1024:
            readable, _, _ = select.select([connection], [], [], 0)
            if readable:
                break
            try:
                connection.sendall(chunk)
            except OSError:  # the server closed the connection after answering
                break
            sent += len(chunk)
        status = read_status(connection)
    grown = resident_mib(pid) - before
    print(
        f"\nendless chunked body: answered {status} after {sent / 2**20:.1f} MiB sent,"
        f" RSS grew {grown:.1f} MiB"
    )
    assert status == 413
    assert sent < 64 * 1024 * 1024
    assert grown < 20


def test_slow_bodies_on_every_thread_do_not_block_other_clients(function: ServedFunction) -> None:
    # Twice as many stalled clients as server threads: each sends its headers and a few body bytes, then
    # nothing. Without a read deadline they would hold every thread until they give up.
    stalled = [connect(function) for _ in range(2 * THREADS)]
    try:
        for connection in stalled:
            connection.sendall(head("Content-Length: 1000\r\n") + b'{"type":')
        started = time.monotonic()
        response = httpx.post(
            function.url,
            content=b"{}",
            headers={"content-type": "application/json"},
            timeout=ANSWER_TIMEOUT_SECONDS,
        )
        waited = time.monotonic() - started
        print(f"\nanswered {response.status_code} after {waited:.1f} s beside {len(stalled)} stalled clients")
        assert response.status_code == 401
        answers = []
        threads = [threading.Thread(target=lambda c=c: answers.append(read_status(c))) for c in stalled]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(ANSWER_TIMEOUT_SECONDS)
        assert sorted(answers) == [408] * len(stalled)
    finally:
        for connection in stalled:
            connection.close()
