"""The volatility smile per expiry at chosen instants, and the ATM term structure.

At an instant, each contract contributes its latest tick of the source at or before it (and
no older than :data:`LOOKBACK`) that carries an implied volatility. History bars carry no
IV, so both charts need live ticks.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from statistics import median
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from alc_data.report.plain import plain_rows
from alc_data.report.window import ReportWindow

#: A quote older than this at an instant is not part of that instant's smile.
LOOKBACK = timedelta(minutes=30)
#: Default instants: the last IV tick of each of the latest days with IV ticks.
DEFAULT_INSTANTS = 3

_INSTANTS = text(
    """
SELECT max(m.time) AS at
FROM market_data_ticks m JOIN option_chains c ON c.id = m.contract_id
WHERE c.underlying_id = :u AND m.source_id = :source AND m.time > :start AND m.time <= :end
  AND m.implied_volatility IS NOT NULL
GROUP BY date_trunc('day', m.time) ORDER BY 1 DESC LIMIT :n
"""
)

_SMILE = text(
    """
SELECT c.expiration_date AS expiry, c.strike_price AS strike, c.option_type AS "right",
       q.implied_volatility AS iv, q.delta, q.underlying_price, q.time
FROM option_chains c
CROSS JOIN LATERAL (
    SELECT m.time, m.implied_volatility, m.delta, m.underlying_price
    FROM market_data_ticks m
    WHERE m.contract_id = c.id AND m.source_id = :source AND m.time <= :at
      AND m.time > :since AND m.implied_volatility IS NOT NULL
    ORDER BY m.time DESC LIMIT 1
) q
WHERE c.underlying_id = :u
ORDER BY 1, 3, 2
"""
)


async def instants(
    conn: AsyncConnection, window: ReportWindow, underlying_id: int
) -> list[datetime]:
    """The default instants, oldest first."""
    rows = await conn.execute(_INSTANTS, window.params(u=underlying_id, n=DEFAULT_INSTANTS))
    return sorted(r.at for r in rows)


async def volatility(
    conn: AsyncConnection,
    window: ReportWindow,
    underlying_id: int,
    at: list[datetime] | None = None,
) -> dict[str, Any]:
    """``smile`` rows per instant and ``term`` rows (ATM IV vs days to expiry) per instant."""
    chosen = at if at is not None else await instants(conn, window, underlying_id)
    smile: list[dict[str, Any]] = []
    for instant in chosen:
        params = window.params(u=underlying_id, at=instant, since=instant - LOOKBACK)
        for row in plain_rows(await conn.execute(_SMILE, params)):
            smile.append({"at": instant.isoformat(), **row})
    empty = None
    if not smile:
        empty = (
            "no option tick with an implied volatility in the window (IV comes from live "
            "ticks; history bars carry none)"
            if not chosen
            else f"no tick with an IV within {LOOKBACK} before the chosen instants"
        )
    return {
        "instants": [i.isoformat() for i in chosen],
        "smile": smile,
        "term": term_structure(smile),
        "empty": empty,
    }


def term_structure(smile: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per instant and expiry: the IV at the strike nearest the underlying (calls and puts
    averaged), against calendar days to expiry."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in smile:
        groups[(row["at"], row["expiry"])].append(row)
    out = []
    for (at, expiry), rows in sorted(groups.items()):
        spots = [r["underlying_price"] for r in rows if r["underlying_price"] is not None]
        if not spots:
            continue
        spot = median(spots)
        atm = min({r["strike"] for r in rows}, key=lambda k: (abs(k - spot), k))
        ivs = [r["iv"] for r in rows if r["strike"] == atm]
        days = (date.fromisoformat(expiry) - datetime.fromisoformat(at).date()).days
        out.append(
            {
                "at": at,
                "expiry": expiry,
                "days": days,
                "strike": atm,
                "atm_iv": sum(ivs) / len(ivs),
                "underlying_price": spot,
            }
        )
    return out
