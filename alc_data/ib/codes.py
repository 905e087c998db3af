"""IB's error and notice codes that alc-data acts on: one table, used by the collector, the
loader and the simulator (which sends them).

The meanings are those of IB's TWS API documentation ("Message Codes").
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["CONNECTIVITY", "CONTRACT_MARKET_DATA", "IBCode", "informational"]


class IBCode(IntEnum):
    """Codes IB sends in ``error`` messages (``errorEvent`` in ib_async)."""

    MAX_RATE_EXCEEDED = 100  # more than 50 messages a second
    MAX_TICKERS = 101  # the market-data line budget is exhausted
    HISTORICAL_DATA = 162  # pacing violation, or "HMDS query returned no data"
    TIME_SERIES_NOT_AVAILABLE = 165  # a notice that accompanies history answers
    NO_SECURITY_DEFINITION = 200  # unknown (or expired) contract
    CANT_FIND_ID = 300  # a cancel for an unknown request id
    VALIDATION = 321  # error validating request (a request the server does not take)
    NOT_SUBSCRIBED = 354  # no market-data subscription for the contract
    CONNECTIVITY_LOST = 1100  # between TWS and IB's servers
    RESTORED_DATA_LOST = 1101  # restored; market-data lines must be requested again
    RESTORED_DATA_KEPT = 1102  # restored; the lines still stream
    SUBSCRIPTION_NEEDED = 10089  # a subscription is needed (delayed data may be available)
    PARTIALLY_SUBSCRIBED = 10090  # part of the requested data needs a subscription
    NOT_SUBSCRIBED_DELAYED = 10168  # delayed data is not enabled


#: Connectivity between TWS / IB Gateway and IB's servers (not the API socket).
CONNECTIVITY = frozenset(
    {IBCode.CONNECTIVITY_LOST, IBCode.RESTORED_DATA_LOST, IBCode.RESTORED_DATA_KEPT}
)
#: A refusal of one contract's market data: the other contracts keep streaming.
CONTRACT_MARKET_DATA = frozenset(
    {
        IBCode.MAX_TICKERS,
        IBCode.NO_SECURITY_DEFINITION,
        IBCode.NOT_SUBSCRIBED,
        IBCode.SUBSCRIPTION_NEEDED,
        IBCode.PARTIALLY_SUBSCRIBED,
        IBCode.NOT_SUBSCRIBED_DELAYED,
    }
)


def informational(code: int) -> bool:
    """True for IB's notices that are not errors (2100-2199: data farm status and the like,
    165: history notices)."""
    return code == IBCode.TIME_SERIES_NOT_AVAILABLE or 2100 <= code < 2200
