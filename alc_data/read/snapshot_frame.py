"""The as-of chain snapshot as Arrow tables (the same SQL as the object API's)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from alc_data.db import snapshot_sql
from alc_data.db.source_filter import source_filter
from alc_data.read import schemas
from alc_data.read.literals import date_literal, int_list_literal, int_literal, time_literal

if TYPE_CHECKING:
    from alc_data.read.frames import ArrowReader, ChainFrame

_MICROSECOND = timedelta(microseconds=1)
_NEW_YORK = ZoneInfo("America/New_York")
_EPOCH = "TIMESTAMPTZ '1970-01-01 00:00:00+00'"


def snapshot_frame(
    reader: ArrowReader,
    symbol: str,
    *,
    as_of: datetime,
    expiry: date | None,
    max_age: timedelta | None,
    include_unquoted: bool,
    source: str | int | None,
) -> ChainFrame:
    """See :meth:`alc_data.read.frames.ArrowReader.chain_snapshot`."""
    from alc_data.read.frames import ChainFrame

    at = time_literal(as_of, "as_of")
    uid = reader.underlying_id(symbol)
    lookback = max_age or timedelta(days=snapshot_sql.BAR_LOOKBACK_DAYS)
    trade_date = date_literal(as_of.astimezone(_NEW_YORK).date())
    chain = f"SELECT id FROM option_chains WHERE underlying_id = {int_literal(uid)} "
    chain += f"AND expiration_date >= {trade_date}"
    if expiry is not None:
        chain += f" AND expiration_date = {date_literal(expiry)}"
    contracts = f"t.contract_id = ANY(ARRAY({chain}))"
    underlying = f"t.underlying_id = {int_literal(uid)}"
    # The window the snapshot looks at: (as_of - max_age, as_of]; without max_age, every tick
    # before as_of (and bars of the lookback): no lower bound.
    sid = reader.source_id(
        source,
        [("market_data_ticks", contracts), ("option_bars", contracts),
         ("stock_data_ticks", underlying), ("stock_bars", underlying)],
        time_literal(as_of - max_age + _MICROSECOND, "as_of") if max_age is not None else None,
        time_literal(as_of + _MICROSECOND, "as_of"),
    )  # fmt: skip
    values = {
        "underlying_id": int_literal(uid),
        "as_of": at,
        "oldest": time_literal(as_of - max_age, "as_of") if max_age is not None else _EPOCH,
        "oldest_bar": time_literal(as_of - lookback, "as_of"),
        "trade_date": trade_date,
        "expiry": date_literal(expiry) if expiry is not None else "CAST(NULL AS date)",
        "ticks_source": source_filter(sid, "m"),
        "bars_source": source_filter(sid, "o"),
    }
    quotes = _tick_quotes(reader, values)
    unquoted = pc.is_null(quotes.column("time"))
    missing = quotes.filter(unquoted).column("contract_id").to_pylist()
    if missing:
        sql = snapshot_sql.BAR_QUOTES.format(contract_ids=int_list_literal(missing), **values)
        quotes = _merge_bar_quotes(quotes, reader.read(sql, schemas.BAR_QUOTES))
    if not include_unquoted:
        quotes = quotes.filter(pc.is_valid(quotes.column("time")))
    return ChainFrame(symbol, uid, as_of, quotes, _underlying(reader, values, sid))


def _tick_quotes(reader: ArrowReader, values: dict[str, str]) -> pa.Table:
    sql = snapshot_sql.TICK_QUOTES.format(
        contracts=snapshot_sql.contract_columns(strike_as_text=True), **values
    )
    base = reader.read(sql, pa.schema(list(schemas.SNAPSHOT_QUOTES)[:-4]))
    basis = pc.if_else(pc.is_valid(base.column("time")), "ticks", pa.scalar(None, pa.string()))
    return schemas.conform(base.append_column("basis", basis), schemas.SNAPSHOT_QUOTES)


def _merge_bar_quotes(quotes: pa.Table, bars: pa.Table) -> pa.Table:
    """Fill the unquoted rows of ``quotes`` from ``bars`` (one row per contract found)."""
    if bars.num_rows == 0:
        return quotes
    at = pc.index_in(quotes.column("contract_id"), value_set=bars.column("contract_id"))
    from_bar = pc.and_(pc.is_null(quotes.column("time")), pc.is_valid(at))
    columns = {
        "time": "time", "bid_price": "bid", "ask_price": "ask", "volume": "volume",
        "what_to_show": "what_to_show", "bar_size": "bar_size", "midpoint": "midpoint",
    }  # fmt: skip
    out = quotes
    for name, bar_name in columns.items():
        field = schemas.SNAPSHOT_QUOTES.field(name)
        picked = pc.take(bars.column(bar_name), at).cast(field.type)
        merged = pc.if_else(from_bar, picked, quotes.column(name))
        out = out.set_column(out.schema.get_field_index(name), field, merged)
    basis = pc.if_else(from_bar, "bars", quotes.column("basis"))
    return out.set_column(out.schema.get_field_index("basis"), "basis", basis)


def _underlying(reader: ArrowReader, values: dict[str, str], source_id: int | None) -> pa.Table:
    values = {
        **values,
        "ticks_source": source_filter(source_id, "s"),
        "bars_source": source_filter(source_id, "o"),
    }
    tick = reader.read(snapshot_sql.UNDERLYING_TICK.format(**values), schemas.STOCK_TICKS)
    if tick.num_rows:
        return tick.append_column("basis", pa.array(["ticks"]))
    bar_schema = pa.schema(
        [*schemas.STOCK_TICKS, ("what_to_show", pa.string()), ("bar_size", pa.string())]
    )
    bar = reader.read(snapshot_sql.UNDERLYING_BAR.format(**values), bar_schema)
    bar = bar.select(schemas.STOCK_TICKS.names)
    basis = pa.array(["bars"] * bar.num_rows, pa.string())
    return bar.append_column("basis", basis)
