"""The quality report's metrics, each one SQL statement over the window (no per-tick queries).

The window is ``time > start AND time <= end``. Session hours are computed in Python from the
trading calendar (:mod:`alc_data.trading_sessions`) and passed to SQL as arrays, so the
database needs no calendar of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from alc_data.trading_sessions import closes_late, effective_end, sessions_between

__all__ = [
    "Product",
    "Window",
    "contract_ids",
    "counts",
    "gaps",
    "load_products",
    "missing_greeks",
    "stale",
]


@dataclass(frozen=True)
class Window:
    """The ticks a quality run looks at: ``start < time <= end``, optionally one symbol."""

    start: datetime
    end: datetime
    symbol: str | None = None
    #: The one source whose ticks are checked (``data_sources.id``; -1: none holds any).
    source_id: int = -1

    def params(self) -> dict[str, Any]:
        """Bind parameters shared by every statement."""
        return {
            "start": self.start,
            "end": self.end,
            "symbol": self.symbol,
            "source": self.source_id,
        }


@dataclass(frozen=True)
class Product:
    """An underlying and whether its options trade to 16:15."""

    underlying_id: int
    symbol: str
    sec_type: str
    late: bool


_SCOPE = """
FROM market_data_ticks m
JOIN option_chains c ON c.id = m.contract_id
JOIN underlying_securities u ON u.id = c.underlying_id
WHERE m.time > :start AND m.time <= :end AND m.source_id = :source
  AND (CAST(:symbol AS text) IS NULL OR u.symbol = CAST(:symbol AS text))
"""

# Python's ``0.0 < b <= a < inf`` in SQL: PostgreSQL sorts NaN above every number, so a NaN
# on either side fails ``b <= a`` or ``a < 'Infinity'``.
_TWO_SIDED = "(m.bid_price > 0 AND m.bid_price <= m.ask_price AND m.ask_price < 'Infinity')"

_COUNTS = text(
    f"""
SELECT count(*) AS total,
       count(*) FILTER (WHERE m.bid_price IS NOT NULL AND m.ask_price IS NOT NULL
                          AND m.bid_price <> 'NaN' AND m.ask_price <> 'NaN') AS quoted,
       count(*) FILTER (WHERE {_TWO_SIDED}) AS two_sided,
       count(*) FILTER (WHERE {_TWO_SIDED} AND m.ask_price - m.bid_price
                          > CAST(:pct AS float8) * ((m.bid_price + m.ask_price) / 2)) AS wide
{_SCOPE}
"""
)

_MISSING_GREEKS = text(
    f"""
SELECT contract_id, underlying_id, delta IS NULL OR delta = 'NaN' AS no_delta,
       gamma IS NULL OR gamma = 'NaN' AS no_gamma, theta IS NULL OR theta = 'NaN' AS no_theta,
       vega IS NULL OR vega = 'NaN' AS no_vega
FROM (SELECT DISTINCT ON (m.contract_id) m.contract_id, c.underlying_id,
             m.delta, m.gamma, m.theta, m.vega
      {_SCOPE}
      ORDER BY m.contract_id, m.time DESC) latest
WHERE delta IS NULL OR gamma IS NULL OR theta IS NULL OR vega IS NULL
   OR delta = 'NaN' OR gamma = 'NaN' OR theta = 'NaN' OR vega = 'NaN'
ORDER BY contract_id
"""
)

_GAPS = text(
    """
WITH s AS (
    SELECT * FROM unnest(CAST(:opens AS timestamptz[]), CAST(:closes AS timestamptz[]),
                         CAST(:lates AS boolean[])) AS s(open_at, close_at, late)
), p AS (
    SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:plates AS boolean[]))
        AS p(underlying_id, late)
), t AS (
    SELECT m.contract_id, m.time, s.open_at,
           lag(m.time) OVER w AS prev_time, lag(s.open_at) OVER w AS prev_open
    FROM market_data_ticks m
    JOIN option_chains c ON c.id = m.contract_id
    JOIN p ON p.underlying_id = c.underlying_id
    JOIN s ON s.late = p.late AND m.time >= s.open_at AND m.time <= s.close_at
    WHERE m.time > :start AND m.time <= :end AND m.source_id = :source
    WINDOW w AS (PARTITION BY m.contract_id ORDER BY m.time)
)
SELECT t.contract_id, c.contract_symbol, c.underlying_id, count(*) AS gap_count,
       CAST(extract(epoch FROM max(t.time - t.prev_time)) AS float8) AS longest
FROM t JOIN option_chains c ON c.id = t.contract_id
WHERE t.prev_open = t.open_at AND t.time - t.prev_time > make_interval(secs => :gap)
GROUP BY t.contract_id, c.contract_symbol, c.underlying_id
ORDER BY gap_count DESC, longest DESC, t.contract_id
"""
)

_STALE = text(
    """
WITH p AS (
    SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:ends AS timestamptz[]))
        AS p(underlying_id, end_at)
)
SELECT c.id AS contract_id, c.contract_symbol, c.underlying_id, p.end_at,
       (SELECT max(m.time) FROM market_data_ticks m
         WHERE m.contract_id = c.id AND m.source_id = :source
           AND m.time > :start AND m.time <= p.end_at) AS last_tick
FROM option_chains c JOIN p ON p.underlying_id = c.underlying_id
WHERE c.active
  AND c.expiration_date >= CAST(p.end_at AT TIME ZONE 'America/New_York' AS date)
  AND NOT EXISTS (
      SELECT 1 FROM market_data_ticks m
      WHERE m.contract_id = c.id AND m.source_id = :source
        AND m.time > :start AND m.time <= p.end_at
        AND m.time > p.end_at - make_interval(secs => :stale))
ORDER BY c.id
"""
)

_PRODUCTS = text(
    "SELECT id, symbol, sec_type FROM underlying_securities "
    "WHERE CAST(:symbol AS text) IS NULL OR symbol = CAST(:symbol AS text) ORDER BY id"
)


async def contract_ids(conn: AsyncConnection, products: list[Product]) -> list[int]:
    """Every contract of the products in scope (for choosing the window's source)."""
    rows = await conn.execute(
        text("SELECT id FROM option_chains WHERE underlying_id = ANY(:u)"),
        {"u": [p.underlying_id for p in products]},
    )
    return [int(i) for i in rows.scalars()]


async def load_products(conn: AsyncConnection, symbol: str | None) -> list[Product]:
    """The underlyings in scope, with their session class."""
    rows = (await conn.execute(_PRODUCTS, {"symbol": symbol})).all()
    return [Product(r.id, r.symbol, r.sec_type, closes_late(r.symbol, r.sec_type)) for r in rows]


async def counts(conn: AsyncConnection, window: Window, max_spread: float) -> dict[str, int]:
    """``total``, ``quoted`` (bid and ask present), ``two_sided`` and ``wide`` row counts."""
    row = (await conn.execute(_COUNTS, {**window.params(), "pct": max_spread})).one()
    return {"total": row.total, "quoted": row.quoted, "two_sided": row.two_sided, "wide": row.wide}


async def missing_greeks(conn: AsyncConnection, window: Window) -> list[dict[str, Any]]:
    """Contracts whose latest tick in the window lacks delta, gamma, theta or vega."""
    rows = (await conn.execute(_MISSING_GREEKS, window.params())).all()
    out = []
    for r in rows:
        missing = [g for g in ("delta", "gamma", "theta", "vega") if getattr(r, f"no_{g}")]
        out.append({"contract_id": r.contract_id, "underlying_id": r.underlying_id,
                    "missing": missing})  # fmt: skip
    return out


async def gaps(
    conn: AsyncConnection, window: Window, products: list[Product], gap_seconds: float
) -> list[dict[str, Any]]:
    """Contracts with in-session gaps longer than ``gap_seconds``, the gappiest first."""
    sessions = [
        (opened, closed, late)
        for late in (False, True)
        for opened, closed in sessions_between(window.start, window.end, late)
    ]
    if not sessions or not products:
        return []
    params = {
        **window.params(),
        "opens": [s[0] for s in sessions],
        "closes": [s[1] for s in sessions],
        "lates": [s[2] for s in sessions],
        "ids": [p.underlying_id for p in products],
        "plates": [p.late for p in products],
        "gap": float(gap_seconds),
    }
    rows = (await conn.execute(_GAPS, params)).all()
    return [
        {"contract_id": r.contract_id, "contract_symbol": r.contract_symbol,
         "underlying_id": r.underlying_id, "gap_count": r.gap_count,
         "longest_gap_seconds": r.longest}
        for r in rows
    ]  # fmt: skip


async def stale(
    conn: AsyncConnection, window: Window, products: list[Product], stale_seconds: float
) -> list[dict[str, Any]]:
    """Active, unexpired contracts with no tick in the last ``stale_seconds`` of the window.

    "The last seconds of the window" end at the window's end while the product's session is
    open, else at the product's last close inside the window (none: nothing is stale).
    """
    ends = {late: effective_end(window.end, late, window.start) for late in (False, True)}
    scoped = [(p.underlying_id, ends[p.late]) for p in products if ends[p.late] is not None]
    if not scoped:
        return []
    params = {
        "start": window.start,
        "source": window.source_id,
        "ids": [i for i, _ in scoped],
        "ends": [e for _, e in scoped],
        "stale": float(stale_seconds),
    }
    rows = (await conn.execute(_STALE, params)).all()
    return [
        {"contract_id": r.contract_id, "contract_symbol": r.contract_symbol,
         "underlying_id": r.underlying_id, "last_tick": r.last_tick, "as_of": r.end_at}
        for r in rows
    ]  # fmt: skip
