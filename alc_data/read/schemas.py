"""The Arrow schemas of the frames: one per table, the same on the COPY and cursor paths."""

from __future__ import annotations

import pyarrow as pa

TIME = pa.timestamp("us", tz="UTC")
STRIKE = pa.decimal128(12, 4)
_F = pa.float64()
_I = pa.int64()
_S = pa.string()

OPTION_TICKS = pa.schema(
    [("contract_id", _I), ("time", TIME)]
    + [(n, _F) for n in ("bid_price", "ask_price", "last_price")]
    + [(n, _I) for n in ("bid_size", "ask_size", "last_size", "volume", "open_interest")]
    + [(n, _F) for n in ("implied_volatility", "delta", "gamma", "theta", "vega", "rho")]
    + [("underlying_price", _F)]
    + [("tick_type", _S)]
)

STOCK_TICKS = pa.schema(
    [("underlying_id", _I), ("time", TIME)]
    + [(n, _F) for n in ("price", "bid_price", "ask_price", "bid_size", "ask_size", "volume")]
    + [("vwap", _F), ("tick_type", _S)]
)


def _bars(key: str) -> pa.Schema:
    return pa.schema(
        [(key, _I), ("what_to_show", _S), ("bar_size", _S), ("time", TIME)]
        + [(n, _F) for n in ("open", "high", "low", "close", "volume", "wap")]
        + [("bar_count", _I)]
    )


OPTION_BARS = _bars("contract_id")
STOCK_BARS = _bars("underlying_id")

QUOTE_BARS = pa.schema(
    [("contract_id", _I), ("time", TIME)]
    + [(n, _F) for n in ("open", "high", "low", "close", "bid", "ask", "spread_avg", "volume")]
    + [("tick_count", _I), ("basis", _S)]
)

CONTRACTS = pa.schema(
    [
        ("contract_id", _I),
        ("expiration_date", pa.date32()),
        ("strike_price", STRIKE),
        ("option_type", _S),
        ("multiplier", pa.int32()),
        ("trading_class", _S),
        ("contract_symbol", _S),
        ("ib_con_id", _I),
    ]
)

SNAPSHOT_QUOTES = pa.schema(
    list(CONTRACTS)
    + [("time", TIME)]
    + [(n, _F) for n in ("bid_price", "ask_price", "last_price")]
    + [(n, _I) for n in ("bid_size", "ask_size", "volume", "open_interest")]
    + [(n, _F) for n in ("implied_volatility", "delta", "gamma", "theta", "vega")]
    + [("underlying_price", _F), ("basis", _S), ("what_to_show", _S), ("bar_size", _S)]
    + [("midpoint", _F)]
)

BAR_QUOTES = pa.schema(
    [("contract_id", _I), ("time", TIME)]
    + [(n, _F) for n in ("bid", "ask", "midpoint", "volume")]
    + [("what_to_show", _S), ("bar_size", _S)]
)

UNDERLYING = pa.schema([*STOCK_TICKS, ("basis", _S)])


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with ``schema``'s column types (strikes arrive as text and become decimals;
    integer widths differ between the COPY and cursor paths for computed columns)."""
    if table.schema.equals(schema):
        return table
    columns = [
        table.column(field.name).cast(field.type)
        if field.name in table.column_names
        else pa.nulls(table.num_rows, field.type)
        for field in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)
