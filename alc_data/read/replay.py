"""Replaying an underlying's chain in time order, streaming, with bounded memory.

    replay = reader.replay("SPY", start=t0, end=t1)               # every quote update
    for batch in replay: ...                                      # pyarrow.RecordBatch
    for state in reader.replay("SPY", start=t0, end=t1, every="1s"): ...   # chain states
    for snap in reader.replay("SPY", start=t0, end=t1, every="1s").snapshots(): ...

Without ``every`` the batches are the chain's option ticks (columns of ``market_data_ticks``)
in time order across contracts (ties by contract id). With ``every`` each batch is the chain's
state at one instant ``start + k * every``: the latest tick at or before it of every contract
quoted so far (the ticks before ``start`` included), with an ``as_of`` column; an instant with
no tick since the previous one is skipped (nights and weekends cost nothing).
:meth:`Replay.snapshots` turns each state into a :class:`~alc_data.ChainSnapshot` with the
underlying's latest stock tick. ``async for`` works too (each step runs in a thread).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from alc_data.db.source_filter import source_filter
from alc_data.errors import DataError
from alc_data.read import schemas
from alc_data.read.frames import window
from alc_data.read.literals import int_literal, time_literal
from alc_data.read.slice_streams import SliceStreams, epoch_micros, time_slices
from alc_data.read.transport import ArrowConnection

if TYPE_CHECKING:
    from alc_data.db.rows import ChainSnapshot
    from alc_data.read.frames import ArrowReader

_TICK_COLS = ", ".join(f"t.{n}" for n in schemas.OPTION_TICKS.names)


def cadence(every: timedelta | str) -> timedelta:
    """A sampling cadence: a positive timedelta or ``"<n>ms"``, ``"<n>s"``, ``"<n>min"``,
    ``"<n>h"``."""
    if isinstance(every, timedelta):
        if every <= timedelta(0):
            raise DataError(f"every must be positive, got {every}")
        return every
    units = {"ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0}
    text = str(every).strip().lower()
    for unit in sorted(units, key=len, reverse=True):
        number = text.removesuffix(unit)
        if number != text and number.replace(".", "", 1).isdigit():
            seconds = float(number) * units[unit]
            if seconds > 0:
                return timedelta(seconds=seconds)
    raise DataError(f"every must be a timedelta or like '1s', '500ms', '5min', got {every!r}")


class Replay:
    """A time-ordered stream of one underlying's chain (see the module docstring).

    Args:
        prefetch: time slices read ahead, each on its own connection (0: one connection).
        queue_batches: record batches buffered per slice being read.
        slice: the time slice of one query (divides a day; an hour by default).
    """

    def __init__(
        self,
        reader: ArrowReader,
        symbol: str,
        *,
        start: datetime,
        end: datetime,
        every: timedelta | str | None = None,
        source: str | int | None = None,
        prefetch: int = 1,
        queue_batches: int = 4,
        slice: timedelta = timedelta(hours=1),
    ) -> None:
        window(start, end)
        if slice <= timedelta(0) or timedelta(days=1) % slice:
            raise DataError(f"slice must divide a day, got {slice}")
        self.slice = slice
        self.reader = reader
        self.symbol = symbol
        self.start, self.end = start, end
        self.every = cadence(every) if every is not None else None
        self.source = source
        self._underlying_id: int | None = None
        self._source_id: int | None = None
        self._source_chosen = False
        self._prefetch = prefetch
        self._queue_batches = queue_batches
        self._streams: SliceStreams | None = None

    @property
    def underlying_id(self) -> int:
        """The underlying's id (looked up on first use, so that building a replay does no I/O
        and ``async for`` does all of its reading in threads)."""
        if self._underlying_id is None:
            self._underlying_id = self.reader.underlying_id(self.symbol)
        return self._underlying_id

    @property
    def source_id(self) -> int | None:
        """The one source the replay reads (chosen on first use over its whole window, as
        every read chooses: :meth:`~alc_data.read.frames.ArrowReader.source_id`)."""
        if not self._source_chosen:
            uid = int_literal(self.underlying_id)
            chain = f"SELECT id FROM option_chains WHERE underlying_id = {uid}"
            chain = f"t.contract_id = ANY(ARRAY({chain}))"
            self._source_id = self.reader.source_id(
                self.source,
                [("market_data_ticks", chain), ("stock_data_ticks", f"t.underlying_id = {uid}")],
                time_literal(self.start), time_literal(self.end),
            )  # fmt: skip
            self._source_chosen = True
        return self._source_id

    def _ticks_sql(self, lo: datetime, hi: datetime) -> str:
        uid = int_literal(self.underlying_id)
        return (
            f"SELECT {_TICK_COLS} FROM market_data_ticks t WHERE t.contract_id = ANY("
            f"ARRAY(SELECT id FROM option_chains WHERE underlying_id = {uid})) "
            f"AND t.time >= {time_literal(lo)} AND t.time < {time_literal(hi)} "
            f"AND {source_filter(self.source_id, 't')} ORDER BY t.time, t.contract_id"
        )

    def _open(self) -> ArrowConnection:
        return ArrowConnection(self.reader.uri, copy=self.reader.connection.copy)

    def ticks(self) -> Iterator[pa.RecordBatch]:
        """Every option tick of the chain in ``[start, end)``, in time order."""
        self._underlying_id = self.underlying_id  # resolved here, not in the slice threads
        self._source_id = self.source_id
        self._streams = SliceStreams(
            time_slices(self.start, self.end, self.slice), self._ticks_sql,
            connect=self._open, shared=self.reader.connection,
            prefetch=self._prefetch, queue_batches=self._queue_batches,
            batch_rows=self.reader.batch_rows,
        )  # fmt: skip
        for batch in self._streams:
            same = batch.schema.equals(schemas.OPTION_TICKS)
            yield batch if same else batch.cast(schemas.OPTION_TICKS)

    def states(self) -> Iterator[pa.RecordBatch]:
        """The chain's state at each instant of the cadence (see the module docstring)."""
        if self.every is None:
            raise DataError("states need a cadence: replay(..., every='1s')")
        sampler = _Sampler(self._seed(), self.start, self.end, self.every)
        for batch in self.ticks():
            yield from sampler.feed(batch)
        yield from sampler.finish()

    def snapshots(self) -> Iterator[ChainSnapshot]:
        """Each sampled state as a :class:`~alc_data.ChainSnapshot` (object form)."""
        from alc_data.read.replay_snapshots import SnapshotBuilder

        builder = SnapshotBuilder(self)
        for state in self.states():
            yield builder.build(state)

    def _seed(self) -> pa.Table:
        """The latest tick of every contract before ``start`` (the state replay starts from)."""
        sql = (
            f"SELECT {_TICK_COLS} FROM option_chains c CROSS JOIN LATERAL ("
            f"SELECT * FROM market_data_ticks m WHERE m.contract_id = c.id "
            f"AND m.time < {time_literal(self.start)} AND {source_filter(self.source_id, 'm')} "
            f"ORDER BY m.time DESC LIMIT 1) t "
            f"WHERE c.underlying_id = {int_literal(self.underlying_id)} ORDER BY t.contract_id"
        )
        return self.reader.read(sql, schemas.OPTION_TICKS)

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        return self.states() if self.every is not None else self.ticks()

    def __aiter__(self) -> AsyncIterator[pa.RecordBatch]:
        return self._async_steps(iter(self))

    async def _async_steps(self, steps: Iterator[Any]) -> AsyncIterator[Any]:
        done = object()
        try:
            while (item := await asyncio.to_thread(next, steps, done)) is not done:
                yield item
        finally:
            close = getattr(steps, "close", None)
            if close is not None:
                close()

    def buffered(self) -> int:
        """Record batches read ahead and not yet consumed."""
        return self._streams.buffered() if self._streams is not None else 0

    def close(self) -> None:
        """Stop reading ahead (also done when iteration ends)."""
        if self._streams is not None:
            self._streams.close()


class _Sampler:
    """The chain's latest tick per contract, sampled at ``start + k * every``."""

    def __init__(self, seed: pa.Table, start: datetime, end: datetime, every: timedelta) -> None:
        self.state = seed
        self.next_at = epoch_micros(start)
        self.end = epoch_micros(end)
        self.step = every // timedelta(microseconds=1)
        self.changed = seed.num_rows > 0

    def feed(self, batch: pa.RecordBatch) -> Iterator[pa.RecordBatch]:
        times = batch.column("time").cast(pa.int64()).to_numpy()
        pos = 0
        while self.next_at < self.end and times[-1] > self.next_at:
            upto = int(np.searchsorted(times, self.next_at, side="right"))
            self._apply(batch.slice(pos, upto - pos))
            pos = upto
            yield from self._emit()
            self._advance(times[pos] if pos < len(times) else None)
        self._apply(batch.slice(pos))

    def finish(self) -> Iterator[pa.RecordBatch]:
        """The last instant's state, if it changed (every later instant would repeat it)."""
        if self.next_at < self.end:
            yield from self._emit()
            self.next_at = self.end

    def _apply(self, rows: pa.RecordBatch) -> None:
        if rows.num_rows == 0:
            return
        both = pa.concat_tables([self.state, pa.Table.from_batches([rows])])
        ids = both.column("contract_id").to_numpy()
        _, first_in_reversed = np.unique(ids[::-1], return_index=True)
        self.state = both.take(len(ids) - 1 - first_in_reversed)
        self.changed = True

    def _emit(self) -> Iterator[pa.RecordBatch]:
        if self.changed and self.state.num_rows:
            at = pa.array(np.full(self.state.num_rows, self.next_at), pa.int64())
            table = self.state.append_column("as_of", at.cast(schemas.TIME))
            yield table.combine_chunks().to_batches()[0]
        self.changed = False

    def _advance(self, next_tick: int | None) -> None:
        """The next instant at which the state can have changed: instants before the next
        tick would repeat this state and are skipped."""
        self.next_at += self.step
        if next_tick is not None and next_tick > self.next_at:
            self.next_at += -(-(next_tick - self.next_at) // self.step) * self.step
