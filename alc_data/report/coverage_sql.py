"""The coverage heatmap: per expiry, strike x time, the share of sampled minutes quoted.

A contract is sampled once a minute (:data:`~alc_data.report.window.SAMPLE`). A minute of a
contract counts as quoted when a tick of the source in it has both a bid and an ask, or a
stored ``BID_ASK`` history bar of the source spans it. The denominator of a cell is the
minutes of that column in which the source stored anything for the underlying (the
collection ran) times the contracts of that strike with data in the window: a hole in the
chain shows up as a pale cell; a stretch with no collection at all is no column (the price
path shades those).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from alc_data.report.plain import plain_rows
from alc_data.report.window import ReportWindow

_COVERAGE = text(
    """
WITH samples AS (
    SELECT m.contract_id, date_bin(:sample, m.time, :origin) AS t,
           bool_or(m.bid_price IS NOT NULL AND m.ask_price IS NOT NULL) AS two_sided
    FROM market_data_ticks m JOIN option_chains c ON c.id = m.contract_id
    WHERE c.underlying_id = :u AND m.source_id = :source AND m.time > :start AND m.time <= :end
    GROUP BY 1, 2
    UNION ALL
    SELECT b.contract_id, g.t, b.open IS NOT NULL AND b.close IS NOT NULL
    FROM option_bars b JOIN option_chains c ON c.id = b.contract_id
    CROSS JOIN LATERAL generate_series(
        date_bin(:sample, b.time, :origin),
        b.time + CAST(b.bar_size AS interval) - interval '1 microsecond', :sample) AS g(t)
    WHERE c.underlying_id = :u AND b.source_id = :source AND b.what_to_show = 'BID_ASK'
      AND b.time > :start AND b.time <= :end
), per_sample AS (
    SELECT contract_id, t, bool_or(two_sided) AS two_sided FROM samples GROUP BY 1, 2
), collected AS (
    SELECT date_bin(:bucket, t, :origin) AS bucket, count(DISTINCT t) AS minutes
    FROM per_sample GROUP BY 1
), strikes AS (
    SELECT c.expiration_date AS expiry, c.strike_price AS strike, count(*) AS contracts
    FROM option_chains c WHERE c.id IN (SELECT DISTINCT contract_id FROM per_sample)
    GROUP BY 1, 2
), quoted AS (
    SELECT c.expiration_date AS expiry, c.strike_price AS strike,
           date_bin(:bucket, p.t, :origin) AS bucket, count(*) FILTER (WHERE p.two_sided) AS n
    FROM per_sample p JOIN option_chains c ON c.id = p.contract_id GROUP BY 1, 2, 3
)
SELECT s.expiry, s.strike, k.bucket, coalesce(q.n, 0) AS quoted,
       s.contracts * k.minutes AS sampled,
       CAST(coalesce(q.n, 0) AS float8) / (s.contracts * k.minutes) AS share
FROM strikes s CROSS JOIN collected k
LEFT JOIN quoted q ON q.expiry = s.expiry AND q.strike = s.strike AND q.bucket = k.bucket
WHERE k.bucket < s.expiry + 1
ORDER BY s.expiry, s.strike, k.bucket
"""
)


async def coverage(
    conn: AsyncConnection, window: ReportWindow, underlying_id: int
) -> dict[str, Any]:
    """Cells ``(expiry, strike, bucket, quoted, sampled, share)`` of the heatmap."""
    rows = plain_rows(await conn.execute(_COVERAGE, window.params(u=underlying_id)))
    empty = None
    if not rows:
        empty = (
            "no option ticks or BID_ASK history bars of this source in the window: "
            "nothing was collected or loaded for its contracts"
        )
    return {"rows": rows, "empty": empty, "bucket_minutes": window.bucket.total_seconds() / 60}
