"""Rows a database holds at revision 0004, for the upgrade test of revision 0006 (provenance).

Shared by the plain-PostgreSQL and the TimescaleDB legs: the same SQL runs on both (on
TimescaleDB ``create_partition_range`` is a no-op and chunks appear as rows arrive).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

#: Ticks on three different days (three partitions / chunks), one 60 days old (compressible).
TICK_DAYS = ("2026-09-01", "2026-11-20", "2026-11-21")
TABLE_KEYS = {
    "market_data_ticks": "contract_id, time",
    "stock_data_ticks": "underlying_id, time",
    "option_bars": "contract_id, what_to_show, bar_size, time",
    "stock_bars": "underlying_id, what_to_show, bar_size, time",
    "history_requests": "instrument_kind, instrument_id, what_to_show, bar_size, trading_day",
    "arbitrage_opportunities": "id",
}


def fill_at_0004(conn: Connection) -> None:
    """Securities, ticks in several partitions, bars, loader progress, an opportunity."""
    run = conn.execute
    uid = run(text("INSERT INTO underlying_securities (symbol) VALUES ('SPY') RETURNING id"))
    u = uid.scalar_one()
    c = run(
        text(
            "INSERT INTO option_chains (underlying_id, expiration_date, strike_price, "
            "option_type, trading_class) VALUES (:u, '2030-01-18', 100, 'C', 'SPY') RETURNING id"
        ),
        {"u": u},
    ).scalar_one()
    for day in TICK_DAYS:
        for table in ("market_data_ticks", "stock_data_ticks", "option_bars", "stock_bars"):
            run(text(f"SELECT create_partition_range('{table}', '{day}', '{day}')"))
        run(
            text(
                "INSERT INTO market_data_ticks (contract_id, time, bid_price, ask_price) "
                "SELECT :c, CAST(:d AS timestamptz) + interval '15 hours' + g * interval '1 s', "
                "1 + g / 100.0, 1.1 + g / 100.0 FROM generate_series(1, 40) g"
            ),
            {"c": c, "d": day},
        )
        run(
            text(
                "INSERT INTO stock_data_ticks (underlying_id, time, price) "
                "SELECT :u, CAST(:d AS timestamptz) + interval '15 hours' + g * interval '1 s', "
                "400 + g FROM generate_series(1, 20) g"
            ),
            {"u": u, "d": day},
        )
        run(
            text(
                "INSERT INTO option_bars (contract_id, what_to_show, bar_size, time, close) "
                "SELECT :c, 'BID_ASK', '1 min', CAST(:d AS timestamptz) + interval '15 hours' "
                "+ g * interval '1 min', 1.05 FROM generate_series(1, 10) g"
            ),
            {"c": c, "d": day},
        )
        run(
            text(
                "INSERT INTO stock_bars (underlying_id, what_to_show, bar_size, time, close) "
                "SELECT :u, 'TRADES', '1 min', CAST(:d AS timestamptz) + interval '15 hours' "
                "+ g * interval '1 min', 401 FROM generate_series(1, 10) g"
            ),
            {"u": u, "d": day},
        )
        run(
            text(
                "INSERT INTO history_requests (instrument_kind, instrument_id, what_to_show, "
                "bar_size, trading_day, status, bars) "
                "VALUES ('option', :c, 'BID_ASK', '1 min', :d, 'done', 10)"
            ),
            {"c": c, "d": day},
        )
    run(
        text(
            "INSERT INTO arbitrage_opportunities (strategy_type, underlying_id, call_contract_id) "
            "VALUES ('SFR', :u, :c)"
        ),
        {"u": u, "c": c},
    )


def snapshot(conn: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables above (their old columns), ordered by the old key."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for table, key in TABLE_KEYS.items():
        columns = old_columns(conn, table)
        rows = conn.execute(text(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {key}"))
        out[table] = [tuple(r) for r in rows]
    return out


_OLD: dict[str, list[str]] = {}


def old_columns(conn: Connection, table: str) -> list[str]:
    """The table's columns apart from ``source_id`` (read once, in table order)."""
    if table not in _OLD:
        names = conn.execute(
            text(
                "SELECT column_name FROM information_schema.columns WHERE table_name = :t "
                "AND column_name <> 'source_id' ORDER BY ordinal_position"
            ),
            {"t": table},
        )
        _OLD[table] = list(names.scalars())
    return _OLD[table]


def sources_by_table(conn: Connection) -> dict[str, dict[str, int]]:
    """Per table: rows per source name."""
    out: dict[str, dict[str, int]] = {}
    for table in TABLE_KEYS:
        rows = conn.execute(
            text(
                f"SELECT s.name, count(*) FROM {table} t JOIN data_sources s "
                "ON s.id = t.source_id GROUP BY 1"
            )
        )
        out[table] = {name: n for name, n in rows}
    return out


def add_second_source_copy(conn: Connection) -> int:
    """Copy the first day's option ticks under a second source (same keys); returns rows."""
    sid = conn.execute(
        text("INSERT INTO data_sources (name, kind) VALUES ('vendor-x', 'vendor') RETURNING id")
    ).scalar_one()
    result = conn.execute(
        text(
            "INSERT INTO market_data_ticks (contract_id, source_id, time, bid_price, ask_price) "
            "SELECT contract_id, :s, time, bid_price + 1, ask_price + 1 FROM market_data_ticks "
            "WHERE time < CAST(:d AS timestamptz) + interval '1 day'"
        ),
        {"s": sid, "d": TICK_DAYS[0]},
    )
    return int(result.rowcount)
