"""Job records in a SQLite file (WAL): the default without Redis, shared by one machine's workers,
and the local copy of the fallback."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

from service.stores.base import JobRecords, Owner

TABLES = {"states": "state BLOB", "leases": "owner TEXT", "cancelled_runs": "run TEXT"}


class SqliteJobRecords(JobRecords):
    """Job records in a SQLite file (WAL), shared by every worker process on this machine.
    Calls run in a thread: a busy database never stalls the event loop."""

    name = "local"

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()  # one connection per process, used by one thread at a time
        self._db = sqlite3.connect(path, timeout=5.0, isolation_level=None, check_same_thread=False)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # a crash may lose the last writes, never corrupt
            for table, column in TABLES.items():
                self._db.execute(
                    f"CREATE TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY, {column}, expires REAL)"
                )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    async def _run(
        self, sql: list[tuple[str, tuple[object, ...]]], check: tuple[str, Owner] | None = None
    ) -> bool:
        """Run the statements in one write transaction; with `check` (ident, owner), only when the
        owner holds that job's lease. True when they ran."""
        return await asyncio.to_thread(self._transaction, sql, check)

    def _transaction(
        self, sql: list[tuple[str, tuple[object, ...]]], check: tuple[str, Owner] | None
    ) -> bool:
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if check is not None and self._owner(check[0], now) != check[1]:
                    self._db.execute("ROLLBACK")
                    return False
                for statement, args in sql:
                    self._db.execute(statement, args)
                self._db.execute("COMMIT")
                return True
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _owner(self, ident: str, now: float) -> Owner | None:
        row = self._db.execute(
            "SELECT owner FROM leases WHERE id = ? AND expires > ?", (ident, now)
        ).fetchone()
        return None if row is None else str(row[0])

    def _read(self, statement: str, args: tuple[object, ...]) -> object | None:
        with self._lock:
            row = self._db.execute(statement, args).fetchone()
        return None if row is None else row[0]

    async def load(self, ident: str) -> bytes | None:
        found = await asyncio.to_thread(
            self._read, "SELECT state FROM states WHERE id = ? AND expires > ?", (ident, time.time())
        )
        return found if isinstance(found, bytes) else None

    async def claim(self, ident: str, owner: Owner, lease: float) -> bool:
        return await asyncio.to_thread(self._take, ident, owner, lease, "claim")

    async def renew(self, ident: str, owner: Owner, lease: float) -> bool:
        return await asyncio.to_thread(self._take, ident, owner, lease, "renew")

    async def mirror(self, ident: str, owner: Owner, lease: float) -> None:
        """Set the lease as Redis holds it (`FallbackJobRecords` keeps this copy for an outage)."""
        await asyncio.to_thread(self._take, ident, owner, lease, "mirror")

    def _take(self, ident: str, owner: Owner, lease: float, how: str) -> bool:
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                held = self._owner(ident, now)
                free = {"claim": held is None, "renew": held == owner, "mirror": True}[how]
                if free:
                    self._db.execute(
                        "INSERT OR REPLACE INTO leases (id, owner, expires) VALUES (?, ?, ?)",
                        (ident, owner, now + lease),
                    )
                    # expired rows of every table go now and then (cheap: an index on the key only)
                    for table in TABLES:
                        self._db.execute(f"DELETE FROM {table} WHERE expires <= ?", (now,))
                self._db.execute("COMMIT")
                return free
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    async def save(self, ident: str, owner: Owner, state: bytes, ttl: int, *, last: bool = False) -> bool:
        sql: list[tuple[str, tuple[object, ...]]] = [
            (
                "INSERT OR REPLACE INTO states (id, state, expires) VALUES (?, ?, ?)",
                (ident, state, time.time() + ttl),
            )
        ]
        if last:
            sql.append(("DELETE FROM leases WHERE id = ?", (ident,)))
        return await self._run(sql, (ident, owner))

    async def holder(self, ident: str) -> Owner | None:
        return await asyncio.to_thread(self._locked_owner, ident)

    def _locked_owner(self, ident: str) -> Owner | None:
        with self._lock:
            return self._owner(ident, time.time())

    async def request_cancel(self, ident: str, run: str, ttl: int) -> None:
        insert = "INSERT OR REPLACE INTO cancelled_runs VALUES (?, ?, ?)"
        await self._run([(insert, (ident, run, time.time() + ttl))])

    async def cancelled_run(self, ident: str) -> str | None:
        found = await asyncio.to_thread(
            self._read, "SELECT run FROM cancelled_runs WHERE id = ? AND expires > ?", (ident, time.time())
        )
        return found if isinstance(found, str) else None
