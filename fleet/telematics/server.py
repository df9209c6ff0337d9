"""The ingestion server: an asyncio TCP server speaking GB/T 32960 to vehicle terminals, and file replay.

Per connection, bytes go through a `FrameScanner`; each item is checked (`Checker`), queued for storage and,
once its batch is committed, answered (a command frame gets its answer only after its row is in the
database: an acknowledged frame is never lost). One writer task batches rows from all connections into one
transaction at a time, in a worker thread so the event loop keeps reading. A defective frame is stored as
rejected and counted; no exception from one connection's bytes reaches the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from fleet.telematics.gbt32960 import FrameScanner
from fleet.telematics.ingest import Checker, Verdict, derive, load_owners, store_rows, touched_days

log = logging.getLogger(__name__)
MAX_BATCH = 2000


@dataclass
class IngestServer:
    """Serve on (host, port); `stats()` reports counts. `derive_every_s` re-derives the metered days of the
    vehicles seen since the last derivation (0: only at stop)."""

    engine: Engine
    host: str = "127.0.0.1"
    port: int = 32960
    derive_every_s: float = 0.0
    checker: Checker | None = None
    _queue: asyncio.Queue[tuple[list[Verdict], asyncio.Future[None]]] | None = None
    _server: asyncio.base_events.Server | None = None
    _writer: asyncio.Task[None] | None = None
    _deriver: asyncio.Task[None] | None = None
    _dirty: dict[int, set[dt.date]] = field(default_factory=dict)
    stored: int = 0

    async def start(self) -> int:
        if self.checker is None:
            with Session(self.engine) as s:
                self.checker = Checker(load_owners(s))
        self._queue = asyncio.Queue()
        self._writer = asyncio.create_task(self._write_loop())
        if self.derive_every_s > 0:
            self._deriver = asyncio.create_task(self._derive_loop())
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._queue is not None:
            await self._queue.join()
        for task in (self._writer, self._deriver):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await asyncio.to_thread(self.derive_pending)

    def derive_pending(self) -> int:
        touched, self._dirty = self._dirty, {}
        if not touched:
            return 0
        with Session(self.engine) as s:
            days = derive(s, touched)
            s.commit()
        return len(days)

    def stats(self) -> dict[str, int]:
        return dict(self.checker.counts) if self.checker else {}

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        source = f"tcp:{peer[0]}:{peer[1]}" if peer else "tcp"
        scanner = FrameScanner()
        try:
            while True:
                chunk = await reader.read(65536)
                items = scanner.feed(chunk) if chunk else scanner.close()
                if items:
                    await self._submit(items, source, writer)
                if not chunk:
                    break
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            log.info("connection %s dropped: %s", source, exc)
        except Exception:  # one terminal's bytes must never stop the server
            log.exception("connection %s failed", source)
        finally:
            with contextlib.suppress(Exception):
                writer.close()
                await writer.wait_closed()

    async def _submit(self, items: list, source: str, writer: asyncio.StreamWriter) -> None:  # type: ignore[type-arg]
        assert self.checker is not None and self._queue is not None
        now = dt.datetime.now(dt.UTC)
        verdicts = [self.checker.check(item, source, now) for item in items]
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((verdicts, done))
        await done  # stored before any answer goes out
        answers = b"".join(v.answer for v in verdicts if v.answer)
        if answers and not writer.is_closing():
            writer.write(answers)
            with contextlib.suppress(ConnectionError):
                await writer.drain()

    async def _write_loop(self) -> None:
        assert self._queue is not None
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and sum(len(v) for v, _ in batch) < MAX_BATCH:
                batch.append(self._queue.get_nowait())
            rows = [v.row for verdicts, _ in batch for v in verdicts]
            try:
                await asyncio.to_thread(self._store, rows)
                for verdicts, done in batch:
                    for vehicle_id, days in touched_days(v.row for v in verdicts).items():
                        self._dirty.setdefault(vehicle_id, set()).update(days)
                    done.set_result(None)
            except Exception as exc:  # the database refused: no answer, the terminal re-sends
                log.exception("storing %d frames failed", len(rows))
                for _, done in batch:
                    done.set_exception(exc)
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _store(self, rows: list) -> None:  # type: ignore[type-arg]
        with Session(self.engine) as s:
            self.stored += store_rows(s, rows)
            s.commit()

    async def _derive_loop(self) -> None:
        while True:
            await asyncio.sleep(self.derive_every_s)
            await asyncio.to_thread(self.derive_pending)


# ---------------------------------------------------------------------------------------------------- replay

_HEX_LINE = re.compile(r"^[0-9A-Fa-f\s]+$")


def read_capture(path: Path) -> bytes:
    """A capture file as bytes: raw binary (frames back to back, as on the wire) or text with one frame per
    line in hexadecimal (spaces allowed, '#' comments and empty lines ignored)."""
    data = path.read_bytes()
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return data
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if lines and all(_HEX_LINE.match(ln) for ln in lines):
        return b"".join(bytes.fromhex(ln.replace(" ", "")) for ln in lines)
    return data


@dataclass(frozen=True)
class ReplayResult:
    counts: dict[str, int]
    stored: int
    days: int


def replay(engine: Engine, path: Path, *, now: dt.datetime | None = None, chunk: int = 5000) -> ReplayResult:
    """Ingest a capture file as if a terminal had sent it (no answers), then derive the metered days. The clock
    check is skipped unless `now` is given (captures are old by nature)."""
    data = read_capture(path)
    scanner = FrameScanner()
    with Session(engine) as s:
        checker = Checker(load_owners(s))
    stored: int = 0
    dirty: dict[int, set[dt.date]] = {}
    items = scanner.feed(data) + scanner.close()
    for start in range(0, len(items), chunk):
        verdicts = [checker.check(item, f"file:{path.name}", now) for item in items[start : start + chunk]]
        with Session(engine) as s:
            stored += store_rows(s, [v.row for v in verdicts])
            s.commit()
        for vehicle_id, days in touched_days(v.row for v in verdicts).items():
            dirty.setdefault(vehicle_id, set()).update(days)
    with Session(engine) as s:
        days = derive(s, dirty)
        s.commit()
    return ReplayResult(dict(Counter(checker.counts)), stored, len(days))
