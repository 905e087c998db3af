"""What the time-series tables are, independent of the backend that stores them.

Both backends (native partitioning on plain PostgreSQL, hypertables on TimescaleDB) read these
specifications, so that the two builders cannot disagree about a table, its period or its rollups.
Migrations import this module (never the models), so its contents must only ever grow.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PartitionedTable:
    """A table partitioned (or chunked) by time."""

    name: str
    time_column: str
    #: Partition / chunk width: ``"day"`` or ``"month"``.
    period: str
    #: Column(s) that identify one series (TimescaleDB ``segmentby``).
    series_columns: tuple[str, ...]

    @property
    def interval(self) -> str:
        """The period as a PostgreSQL interval literal."""
        return f"1 {self.period}"


@dataclass(frozen=True)
class Rollup:
    """A quote-bar rollup of a tick table (a continuous aggregate on TimescaleDB)."""

    name: str
    source: str
    key_column: str
    bucket: str
    #: Rollups built on another rollup (hierarchical) name it here.
    built_on: str | None = None


TICK_TABLES = (
    PartitionedTable("market_data_ticks", "time", "day", ("contract_id",)),
    PartitionedTable("stock_data_ticks", "time", "day", ("underlying_id",)),
)
BAR_TABLES = (
    PartitionedTable("option_bars", "time", "month", ("contract_id", "what_to_show", "bar_size")),
    PartitionedTable("stock_bars", "time", "month", ("underlying_id", "what_to_show", "bar_size")),
)
DATA_TABLES = TICK_TABLES + BAR_TABLES

ROLLUPS = (
    Rollup("market_data_1min", "market_data_ticks", "contract_id", "1 minute"),
    Rollup("market_data_5min", "market_data_ticks", "contract_id", "5 minutes", "market_data_1min"),
    Rollup("stock_data_1min", "stock_data_ticks", "underlying_id", "1 minute"),
)

#: Rollups are stored in monthly partitions on plain PostgreSQL.
ROLLUP_TABLES = tuple(PartitionedTable(r.name, "bucket", "month", (r.key_column,)) for r in ROLLUPS)

#: Every table that alc-data partitions by time on plain PostgreSQL.
PARTITIONED_TABLES = DATA_TABLES + ROLLUP_TABLES


def table_spec(name: str) -> PartitionedTable:
    """The specification of a time-partitioned table by name."""
    for spec in PARTITIONED_TABLES:
        if spec.name == name:
            return spec
    raise KeyError(name)


def rollup(name: str) -> Rollup:
    """The specification of a rollup by name."""
    for spec in ROLLUPS:
        if spec.name == name:
            return spec
    raise KeyError(name)


#: The SELECT list of an option quote-bar rollup, written once for both backends.
#: ``FIRST(expr)`` / ``LAST(expr)`` are rendered by :func:`render_first_last` into the backend's
#: first/last-by-time aggregate.
OPTION_BAR_COLUMNS = """
    FIRST(mid_price) AS open,
    max(mid_price) AS high,
    min(mid_price) AS low,
    LAST(mid_price) AS close,
    LAST(bid_price) AS bid,
    LAST(ask_price) AS ask,
    avg(bid_ask_spread) AS spread_avg,
    max(volume) AS volume,
    LAST(open_interest) AS open_interest,
    LAST(implied_volatility) AS implied_volatility,
    LAST(underlying_price) AS underlying_price,
    count(*) AS tick_count"""

STOCK_BAR_COLUMNS = """
    FIRST(coalesce(price, (bid_price + ask_price) / 2)) AS open,
    max(coalesce(price, (bid_price + ask_price) / 2)) AS high,
    min(coalesce(price, (bid_price + ask_price) / 2)) AS low,
    LAST(coalesce(price, (bid_price + ask_price) / 2)) AS close,
    LAST(bid_price) AS bid,
    LAST(ask_price) AS ask,
    max(volume) AS volume,
    count(*) AS tick_count"""

#: Rolling a finer option rollup up into a coarser one (same column names).
OPTION_BAR_ROLLUP_COLUMNS = """
    FIRST(open) AS open,
    max(high) AS high,
    min(low) AS low,
    LAST(close) AS close,
    LAST(bid) AS bid,
    LAST(ask) AS ask,
    sum(spread_avg * tick_count) / nullif(sum(tick_count), 0) AS spread_avg,
    max(volume) AS volume,
    LAST(open_interest) AS open_interest,
    LAST(implied_volatility) AS implied_volatility,
    LAST(underlying_price) AS underlying_price,
    sum(tick_count) AS tick_count"""


def render_first_last(template: str, order_by: str, *, timescale: bool) -> str:
    """Replace ``FIRST(expr)`` / ``LAST(expr)`` with the backend's by-time aggregate.

    TimescaleDB has ``first(expr, time)``; plain PostgreSQL takes the ends of an ordered
    ``array_agg``. Nested parentheses inside ``expr`` are handled.
    """
    out: list[str] = []
    i = 0
    while i < len(template):
        fn = next((f for f in ("FIRST(", "LAST(") if template.startswith(f, i)), None)
        if fn is None:
            out.append(template[i])
            i += 1
            continue
        start = i + len(fn)
        depth, j = 1, start
        while depth:
            depth += {"(": 1, ")": -1}.get(template[j], 0)
            j += 1
        expr = template[start : j - 1]
        if timescale:
            out.append(f"{fn[:-1].lower()}({expr}, {order_by})")
        else:
            direction = "ASC" if fn == "FIRST(" else "DESC"
            out.append(f"(array_agg({expr} ORDER BY {order_by} {direction}))[1]")
        i = j
    return "".join(out)
