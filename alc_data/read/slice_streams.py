"""Reading a window slice by slice, in time order, with the next slices read ahead.

The server's sort is the bottleneck of a time-ordered read across contracts, so the window is
cut into time slices (an hour by default, aligned to UTC midnight so that no slice crosses a
daily partition): one ``ORDER BY time`` query per slice. Each slice is read by a thread into a
bounded queue; while the consumer works on slice N, slice N+1's query is already sorting and
filling its queue (``prefetch`` slices ahead, on their own connections, reused from slice to
slice). With ``prefetch=0`` one thread at a time reads on a single connection (engines that
serve one connection, such as the PGlite + TimescaleDB engine). Memory is bounded by
``(1 + prefetch) * queue_batches`` record batches, whatever the window; the first batch
arrives after one slice's sort, not a whole day's.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from alc_data.read.transport import FETCH_ROWS, ArrowConnection

_DONE = object()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_micros(at: datetime) -> int:
    """An aware ``at`` in microseconds since the Unix epoch."""
    return (at - _EPOCH) // timedelta(microseconds=1)


def time_slices(
    start: datetime, end: datetime, width: timedelta = timedelta(hours=1)
) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` cut at every multiple of ``width`` since a UTC midnight (a width that
    divides a day keeps every slice inside one daily partition)."""
    out: list[tuple[datetime, datetime]] = []
    lo = start.astimezone(UTC)
    end = end.astimezone(UTC)
    while lo < end:
        midnight = datetime.combine(lo.date(), datetime.min.time(), UTC)
        hi = min(midnight + ((lo - midnight) // width + 1) * width, end)
        hi = min(hi, midnight + timedelta(days=1))
        out.append((lo, hi))
        lo = hi
    return out


class ConnectionPool:
    """The connections of a stream's reading threads, reused from slice to slice.

    With ``shared`` (``prefetch=0``) every slice uses that one connection, never closed here.
    """

    def __init__(
        self, connect: Callable[[], ArrowConnection], shared: ArrowConnection | None = None
    ) -> None:
        self._connect = connect
        self._shared = shared
        self._idle: queue.SimpleQueue[ArrowConnection] = queue.SimpleQueue()

    def take(self) -> ArrowConnection:
        """An idle connection, or a new one."""
        if self._shared is not None:
            return self._shared
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return self._connect()

    def give(self, conn: ArrowConnection, *, healthy: bool) -> None:
        """Return ``conn`` after a slice; one that failed is closed, not reused."""
        if conn is self._shared:
            return
        if healthy:
            self._idle.put(conn)
        else:
            conn.close()

    def close(self) -> None:
        """Close the idle connections."""
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


class _SliceReader:
    """One query read by a background thread, on a pooled connection, into a bounded queue."""

    def __init__(self, pool: ConnectionPool, sql: str, queue_batches: int, batch_rows: int) -> None:
        self._batch_rows = batch_rows
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_batches)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(pool, sql), name="alc-replay-slice", daemon=True
        )
        self._thread.start()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, pool: ConnectionPool, sql: str) -> None:
        conn: ArrowConnection | None = None
        healthy = False
        try:
            conn = pool.take()
            for batch in conn.stream(sql, batch_rows=self._batch_rows):
                if batch.num_rows and not self._put(batch):
                    return
            healthy = True
            self._put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(exc)
        finally:
            if conn is not None:
                pool.give(conn, healthy=healthy)

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The query's batches in order; a failure in the thread is raised here."""
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def buffered(self) -> int:
        """Batches waiting in the queue."""
        return self._queue.qsize()

    def stop(self) -> None:
        """Ask the thread to stop and wait for it (it stops at its next batch)."""
        self._stop.set()
        self._thread.join()


class SliceStreams:
    """The batches of one query per time slice, in order, ``prefetch`` slices read ahead.

    Args:
        slices: the time slices, in order.
        sql_for: the query of one slice.
        connect: opens a new connection (slices read at once each have their own).
        shared: the one connection used, slice after slice, when ``prefetch == 0``.
    """

    def __init__(
        self,
        slices: list[tuple[datetime, datetime]],
        sql_for: Callable[[datetime, datetime], str],
        *,
        connect: Callable[[], ArrowConnection],
        shared: ArrowConnection,
        prefetch: int = 1,
        queue_batches: int = 4,
        batch_rows: int = FETCH_ROWS,
    ) -> None:
        self._batch_rows = batch_rows
        self._pending = deque(slices)
        self._sql_for = sql_for
        self._pool = ConnectionPool(connect, shared if prefetch <= 0 else None)
        self._in_flight = 1 + max(0, prefetch)
        self._queue_batches = max(1, queue_batches)
        self._running: deque[_SliceReader] = deque()

    def _fill(self) -> None:
        while self._pending and len(self._running) < self._in_flight:
            lo, hi = self._pending.popleft()
            sql = self._sql_for(lo, hi)
            self._running.append(
                _SliceReader(self._pool, sql, self._queue_batches, self._batch_rows)
            )

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        try:
            self._fill()
            while self._running:
                reader = self._running[0]
                yield from reader.batches()
                self._running.popleft().stop()
                self._fill()
        finally:
            self.close()

    def buffered(self) -> int:
        """Batches read ahead and not yet consumed (at most ``(1 + prefetch) * queue_batches``)."""
        return sum(reader.buffered() for reader in self._running)

    def close(self) -> None:
        """Stop every reading thread and close the connections they opened."""
        while self._running:
            self._running.pop().stop()
        self._pool.close()
