"""Finding the option universe of a symbol on IB: underlying, price, chain, qualified contracts.

Shared by the collector and the loader, so that both pick the same contracts:

- the underlying is qualified as a stock (SMART) or, for index symbols, an index;
- its price comes from a market-data snapshot, falling back to the last daily close;
- the chain is chosen deliberately, not as the first entry IB returns: the ``SMART`` entries
  when IB lists them (consolidated quotes), else the exchange listing the most strikes; of
  its trading classes only the standard ones (the symbol, and its weekly class such as
  ``SPXW``), since adjusted classes (``2SPY``) and minis are other deliverables;
- expiries within ``expiry_range_days``; for each, one contract-details request lists every
  contract IB has (qualified, with conId), of which those with strikes within
  ``strike_range_percent`` of the price are kept, nearest the money first.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from ib_async import IB, Contract, Index, Option, Stock

from alc_data.errors import IBError, IBTimeoutError
from alc_data.ib.codes import IBCode

log = logging.getLogger(__name__)

#: Symbols IB lists as indexes (secType IND) rather than stocks.
INDEX_SYMBOLS = frozenset({"SPX", "NDX", "RUT", "VIX", "XSP", "DJX", "OEX", "XEO"})


@dataclass(frozen=True)
class DiscoveredContract:
    """One qualified option contract of a universe."""

    contract: Option
    con_id: int
    expiry: date
    strike: Decimal
    right: str
    multiplier: int
    trading_class: str
    contract_symbol: str | None
    #: |strike - spot| / spot when discovered: 0 is at the money.
    moneyness: float


@dataclass(frozen=True)
class Universe:
    """What discovery found for one symbol."""

    symbol: str
    underlying: Contract
    spot: float
    exchange: str
    trading_classes: tuple[str, ...]
    contracts: list[DiscoveredContract] = field(default_factory=list)
    #: contracts listed within the bands (before ``max_contracts``)
    candidates: int = 0

    @property
    def sec_type(self) -> str:
        return str(self.underlying.secType)


#: Seconds IB may take to answer one request before discovery gives up on it.
DEFAULT_TIMEOUT = 30.0

T = TypeVar("T")


async def answered(request: Awaitable[T], what: str, within: float) -> T:
    """The answer to an IB request, or :class:`~alc_data.errors.IBTimeoutError` when none
    arrives within ``within`` seconds (ib_async's ``*Async`` calls otherwise wait forever
    for a gateway that never answers)."""
    try:
        return await asyncio.wait_for(request, within)
    except TimeoutError:
        raise IBTimeoutError(f"IB did not answer {what} within {within:g} s") from None


async def qualify_underlying(
    ib: IB, symbol: str, *, answer_within: float = DEFAULT_TIMEOUT
) -> Contract:
    """The qualified stock or index ``symbol``.

    Raises:
        IBError: IB knows no such stock or index (code 200).
        IBTimeoutError: IB did not answer.
    """
    attempts: list[Contract] = [Stock(symbol, "SMART", "USD"), Index(symbol, "CBOE", "USD")]
    if symbol in INDEX_SYMBOLS:
        attempts.reverse()
    for candidate in attempts:
        qualified = await answered(
            ib.qualifyContractsAsync(candidate), f"the qualification of {symbol}", answer_within
        )
        if qualified and isinstance(qualified[0], Contract) and qualified[0].conId:
            return qualified[0]
    raise IBError(IBCode.NO_SECURITY_DEFINITION, f"no stock or index {symbol!r} is known to IB")


async def underlying_price(
    ib: IB, contract: Contract, *, answer_within: float = DEFAULT_TIMEOUT
) -> float:
    """The underlying's current price (snapshot), or its last daily close.

    Raises:
        IBError: neither a quote nor a daily bar is available.
        IBTimeoutError: IB did not answer.
    """
    what = f"a price snapshot of {contract.symbol}"
    tickers = await answered(ib.reqTickersAsync(contract), what, answer_within)
    if tickers:
        price = tickers[0].marketPrice()
        if _usable(price):
            return float(price)
        close = tickers[0].close
        if _usable(close):
            return float(close)
    bars = await answered(
        ib.reqHistoricalDataAsync(
            contract, "", "5 D", "1 day", "TRADES", useRTH=True, formatDate=2
        ),
        f"daily bars of {contract.symbol}",
        answer_within,
    )
    if bars and _usable(bars[-1].close):
        return float(bars[-1].close)
    raise IBError(
        IBCode.NOT_SUBSCRIBED, f"no price for {contract.symbol}: no quote and no daily bar"
    )


def _usable(value: Any) -> bool:
    return (
        value is not None and isinstance(value, int | float) and math.isfinite(value) and value > 0
    )


def choose_chain(chains: Sequence[Any], symbol: str) -> tuple[str, list[Any]]:
    """The exchange and its standard trading-class entries out of reqSecDefOptParams' answer."""
    standard = {symbol, f"{symbol}W"}
    usable = [c for c in chains if c.tradingClass in standard and c.expirations and c.strikes]
    if not usable:
        raise IBError(
            IBCode.NO_SECURITY_DEFINITION, f"IB lists no standard option chain for {symbol}"
        )
    exchanges = {c.exchange for c in usable}
    if "SMART" in exchanges:
        exchange = "SMART"
    else:
        exchange = max(
            sorted(exchanges),
            key=lambda e: sum(len(c.strikes) for c in usable if c.exchange == e),
        )
    return exchange, [c for c in usable if c.exchange == exchange]


def band_expiries(
    entries: Iterable[Any], *, today: date, expiry_range_days: int
) -> list[tuple[str, str]]:
    """(expiration ``YYYYMMDD``, trading class) pairs listed within the expiry band."""
    last_expiry = today + timedelta(days=expiry_range_days)
    pairs = {
        (expiration, entry.tradingClass)
        for entry in entries
        for expiration in entry.expirations
        if today <= _expiry(expiration) <= last_expiry
    }
    return sorted(pairs)


def _expiry(text: str) -> date:
    return datetime.strptime(text[:8], "%Y%m%d").date()  # noqa: DTZ007 (a date, not a time)


async def chain_contracts(
    ib: IB,
    symbol: str,
    expiries: Sequence[tuple[str, str]],
    *,
    exchange: str,
    spot: float,
    strike_range_percent: float,
    limit: int | None = None,
    answer_within: float = DEFAULT_TIMEOUT,
) -> list[DiscoveredContract]:
    """The listed contracts of each (expiry, trading class) within the strike band, nearest
    the money first.

    One contract-details request per expiry returns every strike and right IB lists for it:
    no guessing strikes from reqSecDefOptParams' superset, and a few requests instead of one
    per contract (IB allows about 50 messages a second).
    """
    found: list[DiscoveredContract] = []
    for expiration, trading_class in expiries:
        query = Option(symbol, expiration, exchange=exchange, currency="USD",
                       tradingClass=trading_class)  # fmt: skip
        what = f"the contract details of {symbol} {expiration}"
        for details in await answered(ib.reqContractDetailsAsync(query), what, answer_within):
            if details.contract is None:
                continue
            contract = Contract.recreate(details.contract)  # a generic Contract -> Option
            if not isinstance(contract, Option) or not contract.conId or not contract.strike:
                continue
            moneyness = abs(contract.strike - spot) / spot
            if moneyness <= strike_range_percent:
                found.append(_discovered(contract, moneyness))
    found.sort(key=lambda c: (c.moneyness, c.expiry, c.right))
    return found if limit is None else found[:limit]


def _discovered(contract: Option, moneyness: float) -> DiscoveredContract:
    return DiscoveredContract(
        contract=contract,
        con_id=int(contract.conId),
        expiry=_expiry(contract.lastTradeDateOrContractMonth),
        strike=Decimal(str(contract.strike)),
        right=str(contract.right)[:1],
        multiplier=int(float(contract.multiplier or 100)),
        trading_class=str(contract.tradingClass or contract.symbol),
        contract_symbol=(contract.localSymbol or None),
        moneyness=moneyness,
    )


async def discover(
    ib: IB,
    symbol: str,
    *,
    expiry_range_days: int,
    strike_range_percent: float,
    today: date | None = None,
    max_contracts: int | None = None,
    answer_within: float = DEFAULT_TIMEOUT,
) -> Universe:
    """Qualify ``symbol``'s underlying and the option contracts in the configured bands.

    Every IB request must be answered within ``answer_within`` seconds.

    Raises:
        IBError: unknown symbol, no price, or no standard chain.
        IBTimeoutError: IB did not answer a request in time.
    """
    underlying = await qualify_underlying(ib, symbol, answer_within=answer_within)
    spot = await underlying_price(ib, underlying, answer_within=answer_within)
    chains = await answered(
        ib.reqSecDefOptParamsAsync(underlying.symbol, "", underlying.secType, underlying.conId),
        f"the option chains of {symbol}",
        answer_within,
    )
    exchange, entries = choose_chain(chains, symbol)
    today = today or datetime.now(UTC).date()
    expiries = band_expiries(entries, today=today, expiry_range_days=expiry_range_days)
    listed = await chain_contracts(
        ib,
        symbol,
        expiries,
        exchange=exchange,
        spot=spot,
        strike_range_percent=strike_range_percent,
        answer_within=answer_within,
    )
    contracts = listed if max_contracts is None else listed[:max_contracts]
    log.info(
        "%s: spot %.2f, chain %s %s, %d expiries, %d contracts in the bands, %d kept",
        symbol, spot, exchange, "/".join(sorted({e.tradingClass for e in entries})),
        len(expiries), len(listed), len(contracts),
    )  # fmt: skip
    return Universe(
        symbol=symbol,
        underlying=underlying,
        spot=spot,
        exchange=exchange,
        trading_classes=tuple(sorted({e.tradingClass for e in entries})),
        contracts=contracts,
        candidates=len(listed),
    )
