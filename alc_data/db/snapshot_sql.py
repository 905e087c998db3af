"""The SQL of the as-of chain snapshot, shared by the object API and the Arrow frames.

Pure text (no driver, no pyarrow), so :mod:`alc_data.repositories.chains` renders it with bind
parameters and :mod:`alc_data.read.frames` with literals: one query, two transports, the same
answer. Placeholders are ``{name}`` fragments the caller fills in:

* quotes from ticks: one index seek per contract (a LATERAL ``ORDER BY time DESC LIMIT 1``,
  DESIGN.md section 4), LEFT JOINed so that contracts without a tick are known;
* quotes from stored history bars, asked only for the contracts that have no tick: per
  contract and candidate series (BID_ASK first, else MIDPOINT; every IB bar size), one seek for
  the latest bar that had *ended* by ``as_of`` (no look-ahead), the latest ending one chosen;
* the underlying from its latest stock tick, else from its latest ended stock bar (TRADES
  close, else MIDPOINT close, else the BID_ASK midpoint).
"""

from __future__ import annotations

#: IB's bar sizes (``reqHistoricalData``'s ``barSizeSetting``), the candidates a snapshot seeks.
BAR_SIZES = (
    "1 secs", "5 secs", "10 secs", "15 secs", "30 secs", "1 min", "2 mins", "3 mins", "5 mins",
    "10 mins", "15 mins", "20 mins", "30 mins", "1 hour", "2 hours", "3 hours", "4 hours",
    "8 hours", "1 day", "1 week", "1 month",
)  # fmt: skip

#: How far back a snapshot looks for a history bar when ``max_age`` is not given (a week of
#: sessions and a long weekend); ticks have no such bound.
BAR_LOOKBACK_DAYS = 10


def _series_values(what: tuple[str, ...]) -> str:
    rows = [
        f"({rank}, '{w}', '{size}', CAST('{size}' AS interval))"
        for rank, w in enumerate(what)
        for size in BAR_SIZES
    ]
    return "(VALUES " + ", ".join(rows) + ") AS s(rank, what_to_show, bar_size, width)"


def contract_columns(*, strike_as_text: bool = False) -> str:
    """The contract columns of a snapshot row (the strike as text for the Arrow path, which
    turns it into ``decimal128(12, 4)``)."""
    strike = "CAST(c.strike_price AS text)" if strike_as_text else "c.strike_price"
    return (
        f"c.id AS contract_id, c.expiration_date, {strike} AS strike_price, c.option_type, "
        "c.multiplier, c.trading_class, c.contract_symbol, c.ib_con_id"
    )


#: Placeholders: {contracts}, {underlying_id}, {trade_date}, {expiry} (a date or NULL),
#: {as_of}, {oldest}, {ticks_source}.
TICK_QUOTES = """
SELECT {contracts}, t.time, t.bid_price, t.ask_price, t.last_price, t.bid_size, t.ask_size,
       t.volume, t.open_interest, t.implied_volatility, t.delta, t.gamma, t.theta, t.vega,
       t.underlying_price
FROM option_chains c
LEFT JOIN LATERAL (
    SELECT * FROM market_data_ticks m
    WHERE m.contract_id = c.id AND m.time <= {as_of} AND m.time > {oldest} AND {ticks_source}
    ORDER BY m.time DESC LIMIT 1
) t ON true
WHERE c.underlying_id = {underlying_id}
  AND c.expiration_date >= {trade_date}
  AND ({expiry} IS NULL OR c.expiration_date = {expiry})
ORDER BY c.expiration_date, c.strike_price, c.option_type, c.id
"""

#: Placeholders: {contract_ids} (a bigint[]), {as_of}, {oldest_bar}, {bars_source}.
#: Columns: contract_id, time (the bar's end), bid, ask, midpoint, volume, what_to_show,
#: bar_size.
BAR_QUOTES = f"""
SELECT ids.contract_id, q.ended AS time, q.bid, q.ask, q.midpoint, q.volume,
       q.what_to_show, q.bar_size
FROM unnest({{contract_ids}}) AS ids(contract_id)
JOIN LATERAL (
    SELECT s.rank, s.what_to_show, s.bar_size, b.time + s.width AS ended,
           CASE WHEN s.what_to_show = 'BID_ASK' THEN b.open END AS bid,
           CASE WHEN s.what_to_show = 'BID_ASK' THEN b.close END AS ask,
           CASE WHEN s.what_to_show = 'BID_ASK' THEN (b.open + b.close) / 2 ELSE b.close END
               AS midpoint,
           b.volume
    FROM {_series_values(("BID_ASK", "MIDPOINT"))}
    JOIN LATERAL (
        SELECT * FROM option_bars o
        WHERE o.contract_id = ids.contract_id AND o.what_to_show = s.what_to_show
          AND o.bar_size = s.bar_size AND o.time <= CAST({{as_of}} AS timestamptz) - s.width
          AND o.time > {{oldest_bar}} AND {{bars_source}}
        ORDER BY o.time DESC LIMIT 1
    ) b ON true
    ORDER BY s.rank, b.time + s.width DESC, s.width
    LIMIT 1
) q ON true
"""

#: Placeholders: {underlying_id}, {as_of}, {oldest}, {ticks_source}.
UNDERLYING_TICK = """
SELECT underlying_id, time, price, bid_price, ask_price, bid_size, ask_size, volume, vwap,
       tick_type
FROM stock_data_ticks s
WHERE underlying_id = {underlying_id} AND time <= {as_of} AND time > {oldest} AND {ticks_source}
ORDER BY time DESC LIMIT 1
"""

#: Placeholders: {underlying_id}, {as_of}, {oldest_bar}, {bars_source}. Columns as
#: UNDERLYING_TICK's (time is the bar's end), then what_to_show and bar_size.
UNDERLYING_BAR = f"""
SELECT {{underlying_id}} AS underlying_id, b.time + s.width AS time,
       CASE WHEN s.what_to_show = 'BID_ASK' THEN (b.open + b.close) / 2 ELSE b.close END
           AS price,
       CASE WHEN s.what_to_show = 'BID_ASK' THEN b.open END AS bid_price,
       CASE WHEN s.what_to_show = 'BID_ASK' THEN b.close END AS ask_price,
       CAST(NULL AS double precision) AS bid_size, CAST(NULL AS double precision) AS ask_size,
       b.volume, b.wap AS vwap, 'REALTIME' AS tick_type, s.what_to_show, s.bar_size
FROM {_series_values(("TRADES", "MIDPOINT", "BID_ASK"))}
JOIN LATERAL (
    SELECT * FROM stock_bars o
    WHERE o.underlying_id = {{underlying_id}} AND o.what_to_show = s.what_to_show
      AND o.bar_size = s.bar_size AND o.time <= CAST({{as_of}} AS timestamptz) - s.width
      AND o.time > {{oldest_bar}} AND {{bars_source}}
    ORDER BY o.time DESC LIMIT 1
) b ON true
ORDER BY s.rank, b.time + s.width DESC, s.width
LIMIT 1
"""
