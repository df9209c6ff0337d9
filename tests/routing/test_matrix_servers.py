"""OSRM and Valhalla matrix providers against a tiny local HTTP server (127.0.0.1, a free port): requests as the
servers expect them, units converted, and every failure (HTTP errors with the server's own message, bad payloads,
unroutable pairs, no server, a timeout) turned into one RoutingServerError that says what went wrong."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

from routing.matrix import (
    OsrmTableProvider,
    RoutingServerError,
    UnreachablePairsError,
    ValhallaMatrixProvider,
    http_json,
)

POINTS = [(22.5431, 114.0579), (22.5329, 113.9305)]


@dataclass
class FakeServer:
    """Answers every request with the next (status, body, content type); records method, path and body."""

    url: str = ""
    answers: list[tuple[int, bytes, str]] = field(default_factory=list)
    requests: list[tuple[str, str, bytes]] = field(default_factory=list)
    delay_s: float = 0.0

    def answer(self, status: int, body: Any, content_type: str = "application/json") -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.answers.append((status, raw, content_type))


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer()

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            fake.requests.append((self.command, self.path, self.rfile.read(length)))
            if fake.delay_s:
                time.sleep(fake.delay_s)
            status, body, ctype = fake.answers.pop(0) if fake.answers else (404, b"{}", "application/json")
            try:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (the timeout test)
                pass

        do_GET = do_POST = _reply

        def log_message(self, *args: Any) -> None:  # keep pytest output clean
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------------------------------------------------- OSRM


def test_osrm_table_over_http(server: FakeServer) -> None:
    server.answer(
        200, {"code": "Ok", "distances": [[0, 1500.0], [1700, 0]], "durations": [[0, 120], [150, 0]]}
    )
    m = OsrmTableProvider(base_url=server.url + "/", profile="truck").table(POINTS)
    method, path, _ = server.requests[0]
    assert method == "GET"
    assert path == "/table/v1/truck/114.057900,22.543100;113.930500,22.532900?annotations=distance,duration"
    assert np.allclose(m.distance_km, [[0, 1.5], [1.7, 0]])
    assert np.allclose(m.duration_min, [[0, 2.0], [2.5, 0]])


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (
            400,
            {"code": "InvalidQuery", "message": "Query string malformed"},
            r"HTTP 400: code='InvalidQuery'",
        ),
        (400, {"code": "TooBig", "message": "Too many table coordinates"}, "Too many table coordinates"),
        (500, b"<html>Internal Server Error</html>", r"HTTP 500: <html>Internal Server Error"),
        (200, b"not json at all", "not JSON"),
        (200, [1, 2, 3], "is a list, expected a JSON object"),
        (200, {"code": "NoTable", "message": "no table"}, r"OSRM table failed: code='NoTable'"),
        (200, {"code": "Ok", "durations": [[0, 1], [1, 0]]}, "no 'distances'"),
        (200, {"code": "Ok", "distances": [[0, 1]], "durations": [[0, 1]]}, r"shape \(1, 2\)"),
        (200, {"code": "Ok", "distances": "x", "durations": [[0, 1], [1, 0]]}, "not a list of rows"),
        (200, {"code": "Ok", "distances": [[0, "7"], [1, 0]], "durations": [[0, 1], [1, 0]]}, "not a number"),
        (200, {"code": "Ok", "distances": [[0, -1], [1, 0]], "durations": [[0, 1], [1, 0]]}, ">= 0"),
    ],
)
def test_osrm_errors_say_what_went_wrong(server: FakeServer, status: int, body: Any, message: str) -> None:
    server.answer(status, body)
    with pytest.raises(RoutingServerError, match=message) as info:
        OsrmTableProvider(base_url=server.url).table(POINTS)
    assert not isinstance(info.value, UnreachablePairsError)


def test_osrm_null_cells_are_unreachable_pairs(server: FakeServer) -> None:
    server.answer(200, {"code": "Ok", "distances": [[0, None], [5, 0]], "durations": [[0, None], [5, 0]]})
    with pytest.raises(UnreachablePairsError, match="OSRM cannot route from point 0 to point 1") as info:
        OsrmTableProvider(base_url=server.url).table(POINTS)
    assert info.value.pairs == [(0, 1)]


def test_no_server_and_a_slow_server_are_errors(server: FakeServer) -> None:
    with pytest.raises(RoutingServerError, match=r"cannot reach http://127\.0\.0\.1:\d+/table"):
        OsrmTableProvider(base_url=f"http://127.0.0.1:{free_port()}").table(POINTS)
    server.delay_s = 1.0
    server.answer(200, {"code": "Ok"})
    with pytest.raises(RoutingServerError, match=r"cannot reach .*timed out"):
        http_json(server.url + "/table", timeout_s=0.2)


# ------------------------------------------------------------------------------------------------------ Valhalla


def test_valhalla_verbose_answer_over_http(server: FakeServer) -> None:
    cells = [[{"from_index": i, "to_index": j, "distance": d, "time": t} for j, (d, t) in enumerate(row)] for i, row in
             enumerate([[(0.0, 0), (1.5, 120)], [(1.7, 150), (0.0, 0)]])]  # fmt: skip
    server.answer(200, {"sources_to_targets": cells, "units": "kilometers"})
    provider = ValhallaMatrixProvider(base_url=server.url, costing_options={"truck": {"weight": 4.5}})
    m = provider.table(POINTS)
    method, path, body = server.requests[0]
    assert (method, path) == ("POST", "/sources_to_targets")
    sent = json.loads(body)
    assert (
        sent["sources"]
        == sent["targets"]
        == [
            {"lat": 22.5431, "lon": 114.0579},
            {"lat": 22.5329, "lon": 113.9305},
        ]
    )
    assert (sent["costing"], sent["units"], sent["costing_options"]) == (
        "truck",
        "kilometers",
        {"truck": {"weight": 4.5}},
    )
    assert np.allclose(m.distance_km, [[0, 1.5], [1.7, 0]])
    assert np.allclose(m.duration_min, [[0, 2.0], [2.5, 0]])
    assert provider.describe()["costing_options"] == {"truck": {"weight": 4.5}}


def test_valhalla_concise_answer(server: FakeServer) -> None:
    server.answer(
        200,
        {"sources_to_targets": {"distances": [[0, 2.0], [2.5, 0]], "durations": [[0, 60], [90, 0]]}},
    )
    m = ValhallaMatrixProvider(base_url=server.url).table(POINTS)
    assert np.allclose(m.distance_km, [[0, 2.0], [2.5, 0]])
    assert np.allclose(m.duration_min, [[0, 1.0], [1.5, 0]])


def _verbose(cells: list[list[Any]]) -> dict[str, Any]:
    return {"sources_to_targets": cells, "units": "kilometers"}


_OK = {"distance": 1.0, "time": 60}


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (
            400,
            {"error_code": 171, "error": "No suitable edges near location", "status_code": 400},
            r"HTTP 400: error_code=171 error='No suitable edges near location'",
        ),
        (503, b"Service Unavailable", "HTTP 503: Service Unavailable"),
        (200, b"{broken", "not JSON"),
        (200, {"error_code": 154, "error": "Path distance exceeds the max distance limit"}, "154"),
        (200, {"units": "kilometers"}, "no 'sources_to_targets'"),
        (200, {"sources_to_targets": [], "units": "miles"}, "units='miles'"),
        (200, _verbose([[_OK, _OK]]), "not 2 rows of 2 cells"),
        (200, _verbose([[_OK, _OK], [_OK, 7]]), r"cell \[1\]\[1\] is a int"),
        (200, _verbose([[_OK, {**_OK, "to_index": 0}], [_OK, _OK]]), "to_index=0"),
        (200, _verbose([[_OK, {**_OK, "time": "soon"}], [_OK, _OK]]), "time value 'soon' is not a number"),
        (200, {"sources_to_targets": {"distances": [[0, 1], [1, 0]]}}, "no 'durations'"),
    ],
)
def test_valhalla_errors_say_what_went_wrong(
    server: FakeServer, status: int, body: Any, message: str
) -> None:
    server.answer(status, body)
    with pytest.raises(RoutingServerError, match=message) as info:
        ValhallaMatrixProvider(base_url=server.url).table(POINTS)
    assert not isinstance(info.value, UnreachablePairsError)


def test_valhalla_null_cells_are_unreachable_pairs(server: FakeServer) -> None:
    server.answer(200, _verbose([[_OK, _OK], [{"distance": None, "time": None}, _OK]]))
    with pytest.raises(UnreachablePairsError, match="Valhalla cannot route from point 1 to point 0") as info:
        ValhallaMatrixProvider(base_url=server.url).table(POINTS)
    assert info.value.pairs == [(1, 0)]


def test_valhalla_point_limit_is_checked_before_any_request(server: FakeServer) -> None:
    with pytest.raises(ValueError, match="max_points=1 of this Valhalla server"):
        ValhallaMatrixProvider(base_url=server.url, max_points=1).table(POINTS)
    assert server.requests == []
