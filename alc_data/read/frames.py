"""``ArrowReader``: every time-series table as Apache Arrow tables, read columnar.

    reader = ArrowReader.connect(db)             # a Database, a URL or a URL string
    ticks = reader.ticks(symbol="SPY", start=t0, end=t1)      # pyarrow.Table
    frame = polars.from_arrow(ticks)             # zero-copy; ticks.to_pandas() for pandas

Reads go through ADBC's PostgreSQL driver (COPY decoded straight into Arrow, or the cursor
fallback where an engine has no COPY: :mod:`alc_data.read.transport`); no Python object is
made per row. Every read is of one source (provenance): ``source`` (a ``data_sources`` name or
id), else the one source holding rows for what is asked, else the reader's default (a
Database's ``ALC_DEFAULT_SOURCE``), else :class:`~alc_data.errors.AmbiguousSourceError`
listing them; never a silent mix (:meth:`ArrowReader.source_id`, then
:func:`~alc_data.db.source_filter.source_filter` in every query). Methods are synchronous
(the driver is); from async code call them with ``asyncio.to_thread``; :meth:`replay` reads
ahead in threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

import pyarrow as pa
from sqlalchemy.engine import URL

from alc_data.bar_sizes import bar_size_seconds, interval_of
from alc_data.db import snapshot_sql
from alc_data.db.source_filter import check_source, source_filter
from alc_data.errors import DataError, UnknownReferenceError
from alc_data.read import quote_bars_sql, schemas
from alc_data.read.literals import (
    date_literal,
    int_list_literal,
    int_literal,
    interval_literal,
    text_literal,
    time_literal,
)
from alc_data.read.transport import FETCH_ROWS, ArrowConnection, libpq_uri
from alc_data.repositories.source_choice import ambiguous_sources, unknown_source

if TYPE_CHECKING:
    from alc_data.db.database import Database
    from alc_data.read.replay import Replay

BASES = ("auto", "ticks", "bars")
_SOURCES = pa.schema([("id", pa.int64()), ("name", pa.string())])
_EPOCH = "TIMESTAMPTZ '1970-01-01 00:00:00+00'"


class ChainFrame(NamedTuple):
    """A chain snapshot as Arrow: one row per contract (``quotes``, with ``basis``) and the
    underlying's latest price (``underlying``: zero or one row, with ``basis``)."""

    symbol: str
    underlying_id: int
    as_of: datetime
    quotes: pa.Table
    underlying: pa.Table


def window(start: datetime, end: datetime) -> tuple[str, str]:
    """``[start, end)`` as literals; both aware, ``end`` not before ``start``."""
    lo, hi = time_literal(start, "start"), time_literal(end, "end")
    if end < start:
        raise DataError(f"end {end.isoformat()} is before start {start.isoformat()}")
    return lo, hi


class ArrowReader:
    """Columnar reads of one database (see the module docstring).

    Args:
        uri: a libpq URI; use :meth:`connect` to build one from a Database or a URL.
        copy: True for COPY, False for the cursor fallback, None to probe the engine.
        default_source: the source a read uses where several hold rows and it names none
            (``ALC_DEFAULT_SOURCE``; :meth:`connect` takes a Database's).
    """

    def __init__(
        self,
        uri: str,
        *,
        copy: bool | None = None,
        batch_rows: int = FETCH_ROWS,
        default_source: str | None = None,
    ) -> None:
        self.uri = uri
        self.batch_rows = batch_rows
        self.default_source = check_source(default_source)
        self._copy = copy
        self._conn: ArrowConnection | None = None

    @classmethod
    def connect(
        cls,
        target: Database | URL | str,
        *,
        copy: bool | None = None,
        batch_rows: int = FETCH_ROWS,
        default_source: str | None = None,
    ) -> ArrowReader:
        """A reader of ``target`` (a :class:`~alc_data.Database`, a URL or a URL string);
        ``batch_rows`` is the cursor path's FETCH size; ``default_source`` defaults to a
        Database's Settings' ``ALC_DEFAULT_SOURCE``."""
        url = getattr(target, "_url", None) if not isinstance(target, URL | str) else target
        if url is None:
            raise DataError("this Database has no URL (built from a pool): pass a URL")
        settings = getattr(target, "settings", None)
        if default_source is None and settings is not None:
            default_source = settings.database.default_source
        return cls(libpq_uri(url), copy=copy, batch_rows=batch_rows, default_source=default_source)

    @property
    def connection(self) -> ArrowConnection:
        """The reader's ADBC connection, opened on first use."""
        if self._conn is None:
            self._conn = ArrowConnection(self.uri, copy=self._copy)
            self._copy = self._conn.copy
        return self._conn

    def close(self) -> None:
        """Close the connection (a later read opens a new one)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> ArrowReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(self, sql: str, schema: pa.Schema) -> pa.Table:
        """The result of ``sql`` as a table of ``schema``."""
        table = self.connection.table(sql, schema=schema, batch_rows=self.batch_rows)
        return schemas.conform(table, schema)

    def source_id(
        self,
        source: str | int | None,
        probes: Sequence[tuple[str, str]],
        start: str | None,
        end: str | None,
    ) -> int | None:
        """The source a read uses (module docstring): ``source`` if named; else the one
        source with a row in any ``(table, predicate on alias t)`` of ``probes`` with
        ``start <= time < end`` (literals, either may be None); else the default.
        None: no source holds rows there and none is configured (the read returns nothing).

        Raises:
            UnknownSourceError: the source named (or the default, when needed) does not exist.
            AmbiguousSourceError: several sources hold rows there and no default is set.
        """
        check_source(source)
        if source is not None:
            return self._named_source(source)
        bounds = (f" AND t.time >= {start}" if start else "") + (
            f" AND t.time < {end}" if end else ""
        )
        exists = [
            f"EXISTS (SELECT 1 FROM {table} t WHERE t.source_id = d.id AND {key}{bounds})"
            for table, key in probes
        ]
        sql = f"SELECT d.id, d.name FROM data_sources d WHERE {' OR '.join(exists)} ORDER BY d.name"
        present = self.read(sql, _SOURCES).to_pylist()
        if len(present) == 1:
            return int(present[0]["id"])
        if self.default_source is not None:
            return self._named_source(self.default_source)
        if not present:
            return None
        raise ambiguous_sources([str(p["name"]) for p in present])

    def _named_source(self, source: str | int) -> int:
        column, value = ("id", int_literal(source)) if isinstance(source, int) else (
            "name", text_literal(source)
        )  # fmt: skip
        found = self.read(f"SELECT id, name FROM data_sources WHERE {column} = {value}", _SOURCES)
        if found.num_rows == 0:
            known = self.read("SELECT id, name FROM data_sources ORDER BY id", _SOURCES)
            raise unknown_source(source, [str(n) for n in known.column("name").to_pylist()])
        return int(found.column("id")[0].as_py())

    def underlying_id(self, symbol: str) -> int:
        """The id of underlying ``symbol`` (STK before IND).

        Raises:
            UnknownReferenceError: no such underlying.
        """
        sql = (
            "SELECT id FROM underlying_securities WHERE symbol = "
            f"{text_literal(symbol)} ORDER BY sec_type <> 'STK', id LIMIT 1"
        )
        found = self.read(sql, pa.schema([("id", pa.int64())]))
        if found.num_rows == 0:
            raise UnknownReferenceError(f"unknown underlying {symbol!r}")
        return int(found.column("id")[0].as_py())

    def contracts(self, symbol: str, *, expiry: date | None = None) -> pa.Table:
        """Every contract of ``symbol``'s chain (expired ones too), one expiry if given."""
        uid = self.underlying_id(symbol)
        where = f"c.underlying_id = {int_literal(uid)}"
        if expiry is not None:
            where += f" AND c.expiration_date = {date_literal(expiry)}"
        sql = (
            f"SELECT {snapshot_sql.contract_columns(strike_as_text=True)} FROM option_chains c "
            f"WHERE {where} ORDER BY c.expiration_date, c.strike_price, c.option_type, c.id"
        )
        return self.read(sql, schemas.CONTRACTS)

    def _contract_set(self, contract_ids: Sequence[int] | None, symbol: str | None) -> str:
        if (contract_ids is None) == (symbol is None):
            raise DataError("pass exactly one of contract_ids and symbol")
        if contract_ids is not None:
            if isinstance(contract_ids, int | str):
                raise DataError("contract_ids must be a sequence of ids")
            return int_list_literal(contract_ids)
        uid = int_literal(self.underlying_id(symbol))  # type: ignore[arg-type]
        return f"ARRAY(SELECT id FROM option_chains WHERE underlying_id = {uid})"

    def ticks(
        self,
        contract_ids: Sequence[int] | None = None,
        *,
        symbol: str | None = None,
        start: datetime,
        end: datetime,
        source: str | int | None = None,
    ) -> pa.Table:
        """Option ticks of a contract set (or of ``symbol``'s whole chain) with
        ``start <= time < end``, in time order (ties by contract id)."""
        ids = self._contract_set(contract_ids, symbol)
        lo, hi = window(start, end)
        sid = self.source_id(source, [("market_data_ticks", f"t.contract_id = ANY({ids})")], lo, hi)
        cols = ", ".join(f"t.{n}" for n in schemas.OPTION_TICKS.names)
        sql = (
            f"SELECT {cols} FROM market_data_ticks t WHERE t.contract_id = ANY({ids}) "
            f"AND t.time >= {lo} AND t.time < {hi} AND {source_filter(sid, 't')} "
            "ORDER BY t.time, t.contract_id"
        )
        return self.read(sql, schemas.OPTION_TICKS)

    def stock_ticks(
        self, symbol: str, *, start: datetime, end: datetime, source: str | int | None = None
    ) -> pa.Table:
        """The underlying's ticks with ``start <= time < end``, oldest first."""
        uid = int_literal(self.underlying_id(symbol))
        lo, hi = window(start, end)
        sid = self.source_id(source, [("stock_data_ticks", f"t.underlying_id = {uid}")], lo, hi)
        cols = ", ".join(f"s.{n}" for n in schemas.STOCK_TICKS.names)
        sql = (
            f"SELECT {cols} FROM stock_data_ticks s WHERE s.underlying_id = {uid} "
            f"AND s.time >= {lo} AND s.time < {hi} AND {source_filter(sid, 's')} "
            "ORDER BY s.time"
        )
        return self.read(sql, schemas.STOCK_TICKS)

    def stored_bars(
        self,
        contract_ids: Sequence[int] | None = None,
        *,
        symbol: str | None = None,
        bar_size: str,
        what_to_show: str,
        start: datetime,
        end: datetime,
        source: str | int | None = None,
    ) -> pa.Table:
        """Option history bars as stored, starting in ``[start, end)``, in time order."""
        ids = self._contract_set(contract_ids, symbol)
        return self._bars(
            "option_bars", f"b.contract_id = ANY({ids})", schemas.OPTION_BARS,
            bar_size, what_to_show, start, end, source,
        )  # fmt: skip

    def stock_bars(
        self,
        symbol: str,
        *,
        bar_size: str,
        what_to_show: str,
        start: datetime,
        end: datetime,
        source: str | int | None = None,
    ) -> pa.Table:
        """The underlying's history bars as stored, starting in ``[start, end)``."""
        uid = int_literal(self.underlying_id(symbol))
        return self._bars(
            "stock_bars", f"b.underlying_id = {uid}", schemas.STOCK_BARS,
            bar_size, what_to_show, start, end, source,
        )  # fmt: skip

    def _bars(
        self,
        table: str,
        key: str,
        schema: pa.Schema,
        bar_size: str,
        what_to_show: str,
        start: datetime,
        end: datetime,
        source: str | int | None,
    ) -> pa.Table:
        _checked_bar_size(bar_size)
        lo, hi = window(start, end)
        sid = self.source_id(source, [(table, key.replace("b.", "t."))], lo, hi)
        cols = ", ".join(f"b.{n}" for n in schema.names)
        sql = (
            f"SELECT {cols} FROM {table} b WHERE {key} "
            f"AND b.what_to_show = {text_literal(what_to_show)} "
            f"AND b.bar_size = {text_literal(bar_size)} AND b.time >= {lo} AND b.time < {hi} "
            f"AND {source_filter(sid, 'b')} ORDER BY b.time, {schema.names[0]}"
        )
        return self.read(sql, schema)

    def quote_bars(
        self,
        contract_ids: Sequence[int] | None = None,
        *,
        symbol: str | None = None,
        interval: timedelta | str,
        start: datetime,
        end: datetime,
        basis: str = "auto",
        source: str | int | None = None,
    ) -> pa.Table:
        """Quote bars of ``interval`` (>= 1 minute) for buckets starting in ``[start, end)``,
        each with its ``basis``: ``"ticks"`` or ``"bars"`` (stored BID_ASK history).

        Args:
            basis: ``"auto"`` (ticks where a bucket has ticks, stored bars elsewhere),
                ``"ticks"`` or ``"bars"`` (only that basis).
        """
        if basis not in BASES:
            raise DataError(f"basis must be one of {BASES}, got {basis!r}")
        step = interval_of(interval)
        ids = self._contract_set(contract_ids, symbol)
        lo, hi = window(start, end)
        key = f"t.contract_id = ANY({ids})"
        sid = self.source_id(source, [("market_data_ticks", key), ("option_bars", key)], lo, hi)
        sql = quote_bars_sql.QUOTE_BARS.format(
            contract_ids=ids, step=interval_literal(step),
            step_seconds=int_literal(int(step.total_seconds())), start=lo, end=hi,
            ticks_source=source_filter(sid, "t"), bars_source=source_filter(sid, "b"),
            want_ticks="TRUE" if basis != "bars" else "FALSE",
            want_bars="TRUE" if basis != "ticks" else "FALSE",
        )  # fmt: skip
        return self.read(sql, schemas.QUOTE_BARS)

    def chain_snapshot(
        self,
        symbol: str,
        *,
        as_of: datetime,
        expiry: date | None = None,
        max_age: timedelta | None = None,
        include_unquoted: bool = False,
        source: str | int | None = None,
    ) -> ChainFrame:
        """The chain at ``as_of`` as Arrow, with the same rules and answer as
        :meth:`~alc_data.repositories.chains.OptionChainRepository.chain_snapshot` (quotes
        from ticks, else from stored history bars; ``basis`` per quote)."""
        from alc_data.read.snapshot_frame import snapshot_frame

        return snapshot_frame(
            self, symbol, as_of=as_of, expiry=expiry, max_age=max_age,
            include_unquoted=include_unquoted, source=source,
        )  # fmt: skip

    def replay(
        self,
        symbol: str,
        *,
        start: datetime,
        end: datetime,
        every: timedelta | str | None = None,
        source: str | int | None = None,
        prefetch: int = 1,
        queue_batches: int = 4,
        slice: timedelta = timedelta(hours=1),
    ) -> Replay:
        """Stream ``symbol``'s chain in time order over ``[start, end)`` (see
        :class:`~alc_data.read.replay.Replay`)."""
        from alc_data.read.replay import Replay

        return Replay(self, symbol, start=start, end=end, every=every, source=source,
                      prefetch=prefetch, queue_batches=queue_batches, slice=slice)  # fmt: skip


def _checked_bar_size(bar_size: str) -> None:
    try:
        bar_size_seconds(bar_size)
    except ValueError as exc:
        raise DataError(str(exc)) from exc


def epoch_literal() -> str:
    """The "no lower bound" time of the snapshot queries."""
    return _EPOCH
