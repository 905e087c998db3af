"""Which source a connection's rows are recorded under, from what the connection says.

- The simulator (:mod:`alc_data.ib.sim`) reports accounts that start with ``SIM`` (its
  default is ``SIMULATED``): its rows are recorded as the ``simulator`` source and can never
  pass for a broker's.
- IB paper-trading accounts start with ``DU`` (``DF`` for an advisor's paper master): the
  ``ib-paper`` source; any other account is a live one: ``ib-live``.
- The market-data type (``reqMarketDataType``: 1 live, 2 frozen, 3 delayed, 4 delayed-frozen)
  is recorded in the source's details, and per row in ``tick_type`` (IB sends it in message
  58 for each subscription). It is not part of the source's name: the loader's history bars
  have no market-data type, and a broker's ticks and bars of one account are one source.

The account number itself is not recorded (the name says only the account type).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alc_data.db.sources import SourceSpec

SIMULATOR_ACCOUNT_PREFIX = "SIM"
PAPER_ACCOUNT_PREFIXES = ("DU", "DF")
MARKET_DATA_TYPES = {1: "live", 2: "frozen", 3: "delayed", 4: "delayed-frozen"}


def account_type(accounts: Sequence[str]) -> str:
    """``simulator``, ``paper`` or ``live`` for the accounts a connection manages."""
    names = [a.strip().upper() for a in accounts if a and a.strip()]
    if names and all(a.startswith(SIMULATOR_ACCOUNT_PREFIX) for a in names):
        return "simulator"
    if names and all(a.startswith(PAPER_ACCOUNT_PREFIXES) for a in names):
        return "paper"
    return "live"


def connection_source(accounts: Sequence[str], market_data_type: int | None) -> SourceSpec:
    """The source of the rows a connection produces (see the module doc)."""
    kind = account_type(accounts)
    details: dict[str, object] = {"account_type": kind}
    if market_data_type is not None:
        details["market_data_type"] = MARKET_DATA_TYPES.get(market_data_type, "live")
    if kind == "simulator":
        return SourceSpec("simulator", "simulator", details)
    return SourceSpec(f"ib-{kind}", "broker", {"broker": "Interactive Brokers", **details})


def client_source(ib: Any, market_data_type: int | None = None) -> SourceSpec:
    """The source of a connected ib_async ``IB`` client's rows (its managed accounts)."""
    return connection_source([str(a) for a in ib.managedAccounts()], market_data_type)
