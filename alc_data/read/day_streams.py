"""Reading a window day by day, in time order, with the next day read ahead.

The server's sort is the bottleneck of a time-ordered read across contracts, so the window is
cut at UTC midnight (the tick tables' partition boundary): one ``ORDER BY time`` query per day.
Each day is read by its own thread into a bounded queue; while the consumer works on day N,
day N+1's query is already sorting and filling its queue (``prefetch`` days ahead, each on its
own connection). With ``prefetch=0`` one thread reads the days one after another on a single
connection (engines that serve one connection, such as the PGlite + TimescaleDB engine).
Memory is bounded by ``(1 + prefetch) * queue_batches`` record batches, whatever the window.
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


def day_windows(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` cut at every UTC midnight inside it."""
    out: list[tuple[datetime, datetime]] = []
    lo = start.astimezone(UTC)
    end = end.astimezone(UTC)
    while lo < end:
        midnight = datetime.combine(lo.date() + timedelta(days=1), datetime.min.time(), UTC)
        hi = min(midnight, end)
        out.append((lo, hi))
        lo = hi
    return out


class _DayReader:
    """One query read by a background thread into a bounded queue.

    ``own`` says whether the thread closes the connection ``open_conn`` gives it when done.
    """

    def __init__(
        self,
        open_conn: Callable[[], ArrowConnection],
        sql: str,
        queue_batches: int,
        own: bool,
        batch_rows: int,
    ) -> None:
        self._batch_rows = batch_rows
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_batches)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(open_conn, sql, own), name="alc-replay-day", daemon=True
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

    def _run(self, open_conn: Callable[[], ArrowConnection], sql: str, own: bool) -> None:
        conn: ArrowConnection | None = None
        try:
            conn = open_conn()
            for batch in conn.stream(sql, batch_rows=self._batch_rows):
                if batch.num_rows and not self._put(batch):
                    return
            self._put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(exc)
        finally:
            if own and conn is not None:
                conn.close()

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


class DayStreams:
    """The batches of one query per day, in day order, ``prefetch`` days read ahead.

    Args:
        days: the day windows, in order.
        sql_for: the query of one day window.
        connect: opens a new connection (each read-ahead day has its own).
        shared: the one connection used, day after day, when ``prefetch == 0``.
    """

    def __init__(
        self,
        days: list[tuple[datetime, datetime]],
        sql_for: Callable[[datetime, datetime], str],
        *,
        connect: Callable[[], ArrowConnection],
        shared: Callable[[], ArrowConnection],
        prefetch: int = 1,
        queue_batches: int = 4,
        batch_rows: int = FETCH_ROWS,
    ) -> None:
        self._batch_rows = batch_rows
        self._pending = deque(days)
        self._sql_for = sql_for
        self._connect = connect
        self._shared = shared
        self._in_flight = 1 + max(0, prefetch)
        self._own = prefetch > 0
        self._queue_batches = max(1, queue_batches)
        self._running: deque[_DayReader] = deque()

    def _fill(self) -> None:
        while self._pending and len(self._running) < self._in_flight:
            lo, hi = self._pending.popleft()
            opener = self._connect if self._own else self._shared
            self._running.append(
                _DayReader(
                    opener,
                    self._sql_for(lo, hi),
                    self._queue_batches,
                    self._own,
                    self._batch_rows,
                )
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
        """Stop every reading thread (each closes the connection it opened)."""
        while self._running:
            self._running.pop().stop()
