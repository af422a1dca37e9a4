"""The chaos run's fault proxy against a small upstream on loopback: what passes, what is refused, what is
lost and what arrives twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from devstack.chaos.fault_proxy import FaultProxy, Request, holding


class Upstream(ThreadingHTTPServer):
    bodies: list[bytes]


class _Handler(BaseHTTPRequestHandler):
    server: Upstream

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        self.server.bodies.append(body)
        answer = b'{"ok": true}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream(("127.0.0.1", 0), _Handler)
    server.bodies = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


@pytest.fixture
def proxy(upstream: Upstream) -> Iterator[FaultProxy]:
    proxy = FaultProxy("test", upstream.server_address[1], seed=1).start()
    yield proxy
    proxy.stop()


def _post(proxy: FaultProxy, body: bytes = b'{"n": 1}') -> httpx.Response:
    return httpx.post(
        proxy.url + "/x", content=body, headers={"content-type": "application/json"}, timeout=10
    )


def _wait_for(check: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_without_a_fault_a_request_passes_and_its_answer_comes_back(
    proxy: FaultProxy, upstream: Upstream
) -> None:
    response = _post(proxy)

    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert upstream.bodies == [b'{"n": 1}']


def test_an_error_fault_answers_503_and_forwards_nothing(proxy: FaultProxy, upstream: Upstream) -> None:
    proxy.inject("error", seconds=30)

    response = _post(proxy)

    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert upstream.bodies == []


def test_a_cut_connection_gives_no_answer_whether_or_not_the_request_arrived(
    proxy: FaultProxy, upstream: Upstream
) -> None:
    proxy.inject("cut", seconds=30)

    for _ in range(8):
        with pytest.raises(httpx.TransportError):
            _post(proxy)

    assert 0 < len(upstream.bodies) < 8, "some requests took effect, some were lost"


def test_a_replay_fault_sends_each_request_once_more_later(proxy: FaultProxy, upstream: Upstream) -> None:
    proxy.inject("replay", seconds=30, delay=0.4)

    assert _post(proxy).status_code == 200
    assert upstream.bodies == [b'{"n": 1}']
    _wait_for(lambda: len(upstream.bodies) == 2)


def test_a_held_request_is_refused_until_the_hold_is_released(proxy: FaultProxy, upstream: Upstream) -> None:
    def numbered_two(request: Request) -> bool:
        return request.json() == {"n": 2}

    with holding(proxy, numbered_two):
        assert _post(proxy, b'{"n": 2}').status_code == 503
        assert _post(proxy, b'{"n": 1}').status_code == 200
    assert _post(proxy, b'{"n": 2}').status_code == 200
    assert upstream.bodies == [b'{"n": 1}', b'{"n": 2}']


def test_a_fault_ends_by_itself(proxy: FaultProxy) -> None:
    proxy.inject("error", seconds=0.3)
    assert _post(proxy).status_code == 503
    _wait_for(lambda: _post(proxy).status_code == 200)
