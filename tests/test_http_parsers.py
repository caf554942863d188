"""``polycrm serve`` on a real socket with each HTTP parser (httptools, the
default, and h11): the request limits are answered by the middleware, the
sandbox's reset fault drops the connection, a request head is bounded, and
a line per request is logged only with ``--access-log`` (docs/deployment.md,
docs/limits.md)."""

from __future__ import annotations

import asyncio
import http.client
import socket

import httpx
import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

from polycrm.config import Settings
from polycrm.http_limits import BoundedHttpToolsProtocol, uvicorn_options
from polycrm.sandbox import traffic

from tests.test_cli import cli_db, data_dir, new_tenant_in  # noqa: F401 (fixtures)
from tests.test_workers import server

PARSERS = ["httptools", "h11"]
TOO_LARGE = b'{"message":"The request body is larger than 33554432 bytes (the limit of this server)"}'


def _port(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


def _raw_request(port: int, head: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(head)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize("parser", PARSERS)
def test_a_real_server_answers_414_431_and_413_instead_of_closing(cli_db, tmp_path, parser):
    with server(tmp_path, "--http", parser) as base:
        port = _port(base)
        # Longer than h11's default 16 KiB buffer and than httptools' 65,535-byte URL parser.
        long_url = b"GET /cirrus/accounts/?q=" + b"x" * 70000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        answer = _raw_request(port, long_url)
        assert answer.startswith(b"HTTP/1.1 414 "), answer[:200]
        assert answer.endswith(b'{"message":"The request URL is longer than 65536 bytes"}')
        # Path and query of exactly the limit (65,536 bytes) are served.
        target = b"/signin?q=" + b"x" * (65536 - len(b"/signin") - len(b"q="))
        answer = _raw_request(port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
        long_header = b"GET /signin HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"x" * 40000 + b"\r\nConnection: close\r\n\r\n"
        assert _raw_request(port, long_header).startswith(b"HTTP/1.1 431 ")
        # Refused by its length before a byte of the body is read.
        large_body = (b"POST /cirrus/accounts/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 40000000\r\n\r\n")
        answer = _raw_request(port, large_body)
        assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
        assert b"\r\nconnection: close\r\n" in answer.lower() and answer.endswith(TOO_LARGE)


@pytest.mark.parametrize("parser", PARSERS)
def test_a_reset_fault_drops_the_connection_of_a_real_server(cli_db, tmp_path, parser):
    creds = new_tenant_in(cli_db)
    traffic.set_faults(cli_db, creds["tenant_id"], [{"api": "cirrus", "status": "reset", "times": 1}])
    headers = {"X-Token": creds["cirrus"]["x_token"]}
    with server(tmp_path, "--http", parser) as base:
        conn = http.client.HTTPConnection("127.0.0.1", _port(base), timeout=30)
        conn.request("GET", "/cirrus/accounts/", headers=headers)
        response = conn.getresponse()
        assert (response.status, response.getheader("content-length")) == (200, "1024")
        with pytest.raises(http.client.IncompleteRead):
            response.read()
        conn.close()
        again = httpx.get(f"{base}/cirrus/accounts/", headers=headers, timeout=30)
        assert again.status_code == 200 and again.json()["total"] == 0


class _Transport:
    """Enough of an asyncio transport for uvicorn's protocol."""

    def __init__(self):
        self.written, self.closed = b"", False

    def get_extra_info(self, name, default=None):
        return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _app(scope, receive, send):
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _protocol() -> tuple[BoundedHttpToolsProtocol, _Transport, asyncio.AbstractEventLoop]:
    config = Config(app=_app, lifespan="off", log_level="warning", **uvicorn_options(Settings()))
    config.load()
    loop = asyncio.new_event_loop()
    protocol = config.http_protocol_class(config=config, server_state=ServerState(), app_state={}, _loop=loop)
    assert isinstance(protocol, BoundedHttpToolsProtocol)
    transport = _Transport()
    protocol.connection_made(transport)
    return protocol, transport, loop


def test_httptools_refuses_a_head_longer_than_its_bound():
    protocol, transport, loop = _protocol()
    bound = protocol.head_bound
    assert bound == 4 * (Settings().max_url_bytes + Settings().max_header_bytes)
    protocol.data_received(b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ")
    for _ in range(bound // 65536 + 1):
        if transport.closed:
            break
        protocol.data_received(b"x" * 65536)
    assert transport.closed
    assert transport.written.startswith(b"HTTP/1.1 400 ")
    assert transport.written.endswith(b"The request head is too large.")
    loop.close()


def test_httptools_counts_each_head_of_a_kept_alive_connection_alone():
    protocol, transport, loop = _protocol()
    head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"x" * (protocol.head_bound // 2) + b"\r\n\r\n"
    for _ in range(3):  # together longer than the bound, each within it
        protocol.data_received(head)
        loop.run_until_complete(asyncio.sleep(0.01))
    assert not transport.closed
    assert transport.written.count(b"HTTP/1.1 204 ") == 3
    loop.close()


@pytest.mark.parametrize("flag", [None, "--access-log"])
def test_the_access_log_is_off_unless_asked_for(cli_db, tmp_path, flag):
    with server(tmp_path, *([flag] if flag else [])) as base:
        assert httpx.get(f"{base}/signin", timeout=30).status_code == 200
        log = tmp_path / f"serve-{_port(base)}.log"
    text = log.read_text(errors="replace")
    assert "Uvicorn running on" in text  # the server's own messages stay
    assert ('"GET /signin HTTP/1.1" 200' in text) == (flag is not None)
