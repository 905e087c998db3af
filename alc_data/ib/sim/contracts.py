"""Contract lookup as TWS does it: match a partial contract against the listed instruments.

An unknown contract gets error 200. Expired options are not found, with or without
``includeExpired``: IB's ``includeExpired`` covers expired futures, and IB keeps no definitions
(and no history) for expired options.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

from alc_data import exchange_calendar as cal
from alc_data.ib.sim import instruments as ins
from alc_data.ib.sim.instruments import OptionSpec, UnderlyingSpec
from alc_data.ib.sim.market_rules import rule_id
from alc_data.ib.sim.model import QuoteModel as MarketModel
from alc_data.ib.sim.protocol import Out, RequestContract

__all__ = ["contract_details_fields", "details_for_version", "resolve", "sec_def_opt_params"]

OPTION_EXCHANGES = ("SMART", "CBOE", "AMEX", "ISE", "PHLX")
_MAX_MATCHES = 20_000


def _parse_expiry(text: str) -> tuple[date | None, str | None]:
    """A full date, or a month prefix ("yyyymm") to match against."""
    text = text.strip()
    if len(text) == 8 and text.isdigit():
        return date(int(text[:4]), int(text[4:6]), int(text[6:])), None
    if len(text) == 6 and text.isdigit():
        return None, text
    return None, None


def _underlying_matches(spec: UnderlyingSpec, c: RequestContract) -> bool:
    if c.con_id and c.con_id != spec.con_id:
        return False
    if c.symbol and c.symbol != spec.symbol:
        return False
    if c.sec_type and c.sec_type != spec.sec_type:
        return False
    if c.currency and c.currency != "USD":
        return False
    if c.local_symbol and c.local_symbol.upper() != spec.symbol:
        return False
    return not c.exchange or c.exchange in {"SMART", spec.exchange, spec.primary_exchange}


def resolve(
    model: MarketModel, c: RequestContract, at: datetime
) -> list[UnderlyingSpec | OptionSpec]:
    """Every live instrument matching ``c`` (empty = IB's error 200)."""
    if c.con_id:
        found = model.contract(c.con_id)
        if found is None:
            return []
        if isinstance(found, OptionSpec) and (
            model.is_expired(found, at)
            or model.listed_on(found) > at.astimezone(cal.EXCHANGE_TZ).date()
        ):
            return []
        if isinstance(found, UnderlyingSpec):
            return [found] if _underlying_matches(found, c) else []
        return [found] if _option_matches(found, c) else []
    if c.sec_type in {"OPT", "FOP"}:
        return list(_options(model, c, at)) if c.sec_type == "OPT" else []
    if c.local_symbol and not c.symbol and len(c.local_symbol) == 21:
        return list(_options(model, c, at))
    return [u for u in model.underlyings if _underlying_matches(u, c)]


def _option_matches(o: OptionSpec, c: RequestContract) -> bool:
    full, month = _parse_expiry(c.expiry)
    checks = (
        not c.symbol or c.symbol == o.underlying.symbol,
        not c.sec_type or c.sec_type == "OPT",
        full is None or full == o.expiry,
        month is None or o.expiry.strftime("%Y%m") == month,
        not c.strike or abs(c.strike - o.strike) < 1e-6,
        not c.right or c.right == o.right,
        not c.trading_class or c.trading_class == o.trading_class,
        not c.multiplier or c.multiplier in {"100", "100.0"},
        not c.currency or c.currency == "USD",
        not c.exchange or c.exchange in OPTION_EXCHANGES,
        not c.local_symbol or c.local_symbol.replace(" ", "") == o.local_symbol.replace(" ", ""),
    )
    return all(checks)


def _options(model: MarketModel, c: RequestContract, at: datetime) -> list[OptionSpec]:
    symbol = c.symbol or c.local_symbol[:6].strip()
    spec = ins.underlying_by_symbol(symbol)
    if spec is None:
        return []
    today = at.astimezone(cal.EXCHANGE_TZ).date()
    full, month = _parse_expiry(c.expiry)
    result: list[OptionSpec] = []
    for trading_class, expiry in model.listed(spec.symbol, today):
        if (full and expiry != full) or (month and expiry.strftime("%Y%m") != month):
            continue
        if c.trading_class and c.trading_class != trading_class:
            continue
        strikes = model.strikes(spec.symbol, expiry, trading_class, today)
        if c.strike:
            strikes = [k for k in strikes if abs(k - c.strike) < 1e-6]
        for strike in strikes:
            for right in (c.right,) if c.right in {"C", "P"} else ("C", "P"):
                o = OptionSpec(spec, expiry, strike, right, trading_class)
                if _option_matches(o, c) and not model.is_expired(o, at):
                    result.append(o)
        if len(result) > _MAX_MATCHES:
            break
    return result


@lru_cache(maxsize=256)
def _trading_hours(start: date) -> str:
    """IB's tradingHours format over a week: "20261125:0930-20261125:1600;20261126:CLOSED"."""
    parts = []
    for offset in range(7):
        day = start + timedelta(days=offset)
        hours = cal.session(day)
        if hours is None:
            parts.append(f"{day:%Y%m%d}:CLOSED")
        else:
            o, c = (h.astimezone(cal.EXCHANGE_TZ) for h in hours)
            parts.append(f"{o:%Y%m%d:%H%M}-{c:%Y%m%d:%H%M}")
    return ";".join(parts)


def contract_details_fields(
    req_id: int, item: UnderlyingSpec | OptionSpec, exchange: str, today: date
) -> list[object]:
    """The fields of one contractDetails message (server version >= 164 layout).

    ``today`` (New York) starts the week of sessions listed as trading hours.
    """
    hours = _trading_hours(today)
    if isinstance(item, UnderlyingSpec):
        return [
            Out.CONTRACT_DATA,
            req_id,
            item.symbol,
            item.sec_type,
            "",
            0.0,
            "",
            item.exchange,
            "USD",
            item.symbol,
            item.symbol,
            item.symbol,
            item.con_id,
            0.01,
            "",
            "ACTIVETIM,AD,ADJUST,ALERT,ALGO,LMT,MKT,STP",
            f"SMART,{item.primary_exchange}" if item.primary_exchange else item.exchange,
            1,
            0,
            item.long_name,
            item.primary_exchange,
            "",
            item.industry,
            item.category,
            "",
            "US/Eastern",
            hours,
            hours,
            "",
            "",
            0,
            "",
            "",
            "",
            "26" if item.is_index else "26,26",  # one rule per valid exchange
            "",
            "ETF" if item.category.endswith("Fund") else ("" if item.is_index else "COMMON"),
            1 if not item.is_index else 0,
            1 if not item.is_index else 0,
            100,
        ]
    und = item.underlying
    exch = exchange if exchange in OPTION_EXCHANGES else "SMART"
    last = item.expires_at.astimezone(cal.EXCHANGE_TZ)
    settlement = f"{item.settlement} settlement, " + ("European" if item.european else "American")
    if und.is_index:
        settlement += ", cash-settled"
    return [
        Out.CONTRACT_DATA,
        req_id,
        und.symbol,
        "OPT",
        f"{item.expiry:%Y%m%d} {last:%H:%M} US/Eastern",
        item.strike,
        item.right,
        exch,
        "USD",
        item.local_symbol,
        item.trading_class,
        item.trading_class,
        item.con_id,
        0.01,
        "100",
        "ACTIVETIM,AD,ALERT,ALLOC,LMT,MKT,STP",
        ",".join(OPTION_EXCHANGES),
        1,
        und.con_id,
        und.long_name,
        "",
        f"{item.expiry:%Y%m}",
        und.industry,
        und.category,
        settlement,
        "US/Eastern",
        hours,
        hours,
        "",
        "",
        0,
        "",
        und.symbol,
        und.sec_type,
        ",".join([str(rule_id(item))] * len(OPTION_EXCHANGES)),
        f"{item.expiry:%Y%m%d}",
        "",
        1,
        1,
        1,
    ]


def details_for_version(fields: list[object], version: int) -> list[object]:
    """A contractDetails message (built in the 164+ layout) in ``version``'s layout.

    Before 164 the message carries a version field (8) and ``mdSizeMultiplier`` (after the
    minimum tick) and no size increments; 163 alone has the suggested size increment.
    """
    if version >= 164:
        return fields
    head, min_tick, rest = fields[1:13], fields[13], fields[14:-3]
    tail = [fields[-1]] if version == 163 else []
    return [fields[0], 8, *head, min_tick, 1, *rest, *tail]


def sec_def_opt_params(
    model: MarketModel, spec: UnderlyingSpec, at: datetime
) -> list[tuple[str, str, list[str], list[float]]]:
    """(exchange, trading class, expirations, strikes) entries, as reqSecDefOptParams answers."""
    today = at.astimezone(cal.EXCHANGE_TZ).date()
    by_class: dict[str, list[date]] = {}
    for trading_class, expiry in model.listed(spec.symbol, today):
        probe = OptionSpec(spec, expiry, 0.0, "C", trading_class)
        if probe.expires_at > at:
            by_class.setdefault(trading_class, []).append(expiry)
    entries = []
    for trading_class, expiries in sorted(by_class.items()):
        strikes = sorted(
            {k for e in expiries for k in model.strikes(spec.symbol, e, trading_class, today)}
        )
        for exchange in OPTION_EXCHANGES:
            entries.append((exchange, trading_class, [f"{e:%Y%m%d}" for e in expiries], strikes))
    return entries
