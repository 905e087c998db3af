"""Quote bars of any interval for a contract set, in one query (the frame form of
:meth:`alc_data.repositories.bars.OptionBarRepository.bars`, with the same answer).

Per contract and bucket: from the ticks where the bucket has ticks, else rolled up from the
stored BID_ASK history bars of the largest bar size that divides the interval (an IB BID_ASK
bar's open is the time-average bid, its close the time-average ask; each contributes its
midpoint). ``basis`` says which. Buckets are aligned like TimescaleDB's ``time_bucket``.
"""

from __future__ import annotations

from alc_data.db.partitioning import BUCKET_ORIGIN
from alc_data.db.timeseries import OPTION_BAR_COLUMNS, render_first_last

_TICK_COLUMNS = render_first_last(OPTION_BAR_COLUMNS, "time", timescale=False)

#: Placeholders: {contract_ids} (bigint[]), {step} (interval), {step_seconds}, {start},
#: {end}, {ticks_source}, {bars_source}, {want_ticks}, {want_bars} (booleans).
QUOTE_BARS = f"""
WITH tick_bars AS (
    SELECT contract_id, date_bin({{step}}, time, TIMESTAMPTZ '{BUCKET_ORIGIN}') AS bucket,
    {_TICK_COLUMNS}
    FROM market_data_ticks t
    WHERE {{want_ticks}} AND contract_id = ANY({{contract_ids}})
      AND time >= {{start}} AND time < {{end}} AND {{ticks_source}}
    GROUP BY 1, 2
),
sizes AS (
    SELECT DISTINCT ON (contract_id) contract_id, bar_size
    FROM (
        SELECT DISTINCT contract_id, bar_size FROM option_bars b
        WHERE {{want_bars}} AND contract_id = ANY({{contract_ids}}) AND what_to_show = 'BID_ASK'
          AND time >= {{start}} AND time < {{end}} AND {{bars_source}}
    ) present
    WHERE {{step_seconds}} % extract(epoch FROM CAST(bar_size AS interval)) = 0
    ORDER BY contract_id, extract(epoch FROM CAST(bar_size AS interval)) DESC
),
stored AS (
    SELECT b.*, date_bin({{step}}, b.time, TIMESTAMPTZ '{BUCKET_ORIGIN}') AS bucket,
           CASE WHEN b.open IS NOT NULL AND b.close IS NOT NULL
                THEN (b.open + b.close) / 2 END AS mid
    FROM option_bars b JOIN sizes USING (contract_id, bar_size)
    WHERE b.what_to_show = 'BID_ASK' AND b.time >= {{start}} AND b.time < {{end}}
      AND {{bars_source}}
),
rolled AS (
    SELECT contract_id, bucket,
           (array_agg(mid ORDER BY time) FILTER (WHERE mid IS NOT NULL))[1] AS open,
           max(mid) AS high, min(mid) AS low,
           (array_agg(mid ORDER BY time DESC) FILTER (WHERE mid IS NOT NULL))[1] AS close,
           (array_agg(open ORDER BY time DESC))[1] AS bid,
           (array_agg(close ORDER BY time DESC))[1] AS ask,
           avg(close - open) FILTER (WHERE mid IS NOT NULL) AS spread_avg,
           sum(volume) AS volume
    FROM stored GROUP BY 1, 2
)
SELECT contract_id, bucket AS time, open, high, low, close, bid, ask, spread_avg,
       CAST(volume AS double precision) AS volume, tick_count, 'ticks' AS basis
FROM tick_bars
UNION ALL
SELECT r.contract_id, r.bucket, r.open, r.high, r.low, r.close, r.bid, r.ask, r.spread_avg,
       r.volume, CAST(NULL AS bigint), 'bars'
FROM rolled r
WHERE NOT EXISTS (
    SELECT 1 FROM tick_bars k WHERE k.contract_id = r.contract_id AND k.bucket = r.bucket
)
ORDER BY time, contract_id
"""
