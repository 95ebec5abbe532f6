"""Who owns an embedded store: the one serving process that opened it.

Chroma's embedded store belongs to one process: another process that writes to the same folder leaves the
server's open index stale (hits whose records are gone, a segment it cannot read, new passages it never finds).
So `newsrag serve` holds a lock on data_dir/server.lock for its lifetime and writes in it where it can be
reached ({pid, url}); `newsrag ingest` against that data_dir sends its articles to that server instead of
opening the store itself. The lock goes with the process, however it ends (kill -9 too).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

from rag.errors import StoreOwned

OWNER_FILE = "server.lock"


@dataclass(frozen=True)
class Owner:
    pid: int | None
    url: str | None  # None while the server is starting (ingesting its corpus, loading the model)

    def describe(self) -> str:
        process = f"pid {self.pid}" if self.pid else "another process"
        return f"the server at {self.url} ({process})" if self.url else f"a server that is starting ({process})"


class Claim:
    """The running server's hold on a data folder; announce() says where it can be reached."""

    def __init__(self, handle: IO[str]):
        self._handle = handle

    def announce(self, url: str) -> None:
        _write(self._handle, {"pid": os.getpid(), "url": url})


@contextmanager
def claim_store(data_dir: Path) -> Iterator[Claim]:
    """Hold data_dir for this process; StoreOwned when a running server holds it already."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / OWNER_FILE, "a+") as handle:
        if not _locked(handle):
            raise StoreOwned(f"the store in {data_dir} is already served by {_read(handle).describe()}; "
                             "stop that server first, or serve another data_dir") from None
        _write(handle, {"pid": os.getpid(), "url": None})
        try:
            yield Claim(handle)
        finally:
            _write(handle, {})
            fcntl.flock(handle, fcntl.LOCK_UN)


def _locked(handle: IO[str], tries: int = 5) -> bool:
    """The exclusive lock, retried briefly: an `ingest` looking for the owner holds a shared one an instant."""
    for attempt in range(tries):
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            time.sleep(0.1 * attempt)
    return False


def store_owner(data_dir: Path) -> Owner | None:
    """The running server that owns data_dir's store; None when no process holds it."""
    path = data_dir / OWNER_FILE
    if not path.exists():
        return None
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read(handle)
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None


def _write(handle: IO[str], data: dict) -> None:
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps(data))
    handle.flush()


def _read(handle: IO[str]) -> Owner:
    handle.seek(0)
    try:
        data = json.loads(handle.read() or "{}")
    except ValueError:  # caught half-written
        data = {}
    return Owner(pid=data.get("pid"), url=data.get("url"))
