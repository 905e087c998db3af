"""Scenario files: the opportunities a simulator plants, read and checked for shape.

A scenario is YAML or JSON::

    fees: {per_contract: 0.65, per_share: 0.005}   # commission per option contract, cost per share
    opportunities:                                   # (or "entries", or "planted")
      - id: spy-conversion
        kind: conversion                             # conversion | reversal | box | calendar
        symbol: SPY
        legs:
          - {expiry: 2026-12-18, strike: 600, right: C, side: sell}
          - {expiry: 2026-12-18, strike: 600, right: P, side: buy}
          - {right: STK, side: buy}                  # the stock leg (implied when left out)
        start: "+60s"                                # an offset from the server's start, or ISO
        duration_s: 120
        edge: 12.50                                  # dollars per contract after fees

The legs must form their kind: a conversion sells the call, buys the put (same expiry and
strike) and buys 100 shares; a reversal the opposite; a box has a call and a put at each of two
strikes of one expiry, bought and sold as a long box (buy the low call and the high put) or a short
box; a calendar sells the near expiry and buys the far one, same strike and right. This module
checks the shape only; :mod:`alc_data.ib.sim.planting` checks the contracts and plants.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from alc_data.errors import ScenarioError

__all__ = ["KINDS", "Fees", "Leg", "PlannedEntry", "Scenario", "load_scenario", "parse_scenario"]

KINDS = ("conversion", "reversal", "box", "calendar")
_OFFSET = re.compile(r"^\+?\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h)?$", re.IGNORECASE)
_UNITS = {"": 1.0, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class Fees:
    """Costs taken off an opportunity's edge: per option contract and per share of stock."""

    per_contract: float = 0.0
    per_share: float = 0.0

    def of(self, option_legs: int, shares: int) -> float:
        """The fees of one strategy unit (dollars)."""
        return option_legs * self.per_contract + shares * self.per_share


@dataclass(frozen=True)
class Leg:
    """One leg: an option (expiry, strike, right C/P) or the stock (right "STK"), bought or sold."""

    right: str
    side: str  # "BUY" or "SELL"
    expiry: date | None = None
    strike: float | None = None

    @property
    def is_stock(self) -> bool:
        """True for the stock leg of a conversion or reversal."""
        return self.right == "STK"


@dataclass(frozen=True)
class PlannedEntry:
    """One opportunity as the file describes it (its start may be relative to the server's)."""

    id: str
    kind: str
    symbol: str
    legs: tuple[Leg, ...]
    start: datetime | timedelta
    duration_s: float
    edge: float

    def window(self, server_start: datetime) -> tuple[datetime, datetime]:
        """The [start, end) of the entry once the server's start is known."""
        begin = server_start + self.start if isinstance(self.start, timedelta) else self.start
        return begin, begin + timedelta(seconds=self.duration_s)

    def options(self) -> list[Leg]:
        """The option legs."""
        return [leg for leg in self.legs if not leg.is_stock]


@dataclass(frozen=True)
class Scenario:
    """A fees model and the opportunities to plant."""

    fees: Fees
    entries: tuple[PlannedEntry, ...]
    source: str = ""


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario file (YAML or JSON).

    Raises:
        ScenarioError: the file is missing, unreadable or malformed.
    """
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario {p}: {exc}") from exc
    try:
        data = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ScenarioError(f"scenario {p} is not valid {p.suffix or 'YAML'}: {exc}") from exc
    return parse_scenario(data, source=str(p))


def parse_scenario(data: object, *, source: str = "") -> Scenario:
    """A scenario from already-parsed data (see the module docstring for the shape).

    Raises:
        ScenarioError: naming the entry and field at fault.
    """
    if not isinstance(data, Mapping):
        raise ScenarioError(f"{source or 'scenario'}: expected a mapping at the top level")
    fees = _fees(data.get("fees") or {})
    raw = data.get("opportunities", data.get("entries", data.get("planted")))
    if not isinstance(raw, list) or not raw:
        raise ScenarioError(f"{source or 'scenario'}: 'opportunities' must be a non-empty list")
    entries = tuple(_entry(item, n) for n, item in enumerate(raw))
    ids = [e.id for e in entries]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ScenarioError(f"duplicate opportunity ids: {', '.join(duplicates)}")
    return Scenario(fees, entries, source)


def _number(value: object, what: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ScenarioError(f"{what} must be a number, got {value!r}")
    try:
        number = float(value)
    except ValueError as exc:
        raise ScenarioError(f"{what} must be a number, got {value!r}") from exc
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        raise ScenarioError(f"{what} must be a {'positive' if positive else 'non-negative'} number")
    return number


def _fees(raw: object) -> Fees:
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"fees must be a mapping, got {raw!r}")
    contract = _first(raw, "per_contract", "commission_per_contract", "commission", "contract")
    share = _first(raw, "per_share", "per_share_cost", "share_cost", "share")
    return Fees(_number(contract or 0, "fees.per_contract"), _number(share or 0, "fees.per_share"))


def _first(raw: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if key in raw:
            return raw[key]
    return None


def _entry(raw: object, n: int) -> PlannedEntry:
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"opportunity #{n + 1} must be a mapping")
    ident = str(raw.get("id") or "").strip()
    where = f"opportunity {ident or '#' + str(n + 1)}"
    if not ident:
        raise ScenarioError(f"{where}: 'id' is required")
    kind = str(raw.get("kind") or "").strip().lower()
    if kind not in KINDS:
        raise ScenarioError(f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    symbol = str(raw.get("symbol") or "").strip().upper()
    if not symbol:
        raise ScenarioError(f"{where}: 'symbol' is required")
    legs_raw = raw.get("legs")
    if not isinstance(legs_raw, list) or not legs_raw:
        raise ScenarioError(f"{where}: 'legs' must be a non-empty list")
    legs = tuple(_leg(leg, f"{where} leg {i + 1}") for i, leg in enumerate(legs_raw))
    duration = _number(_first(raw, "duration_s", "duration"), f"{where}: duration_s", positive=True)
    edge = _number(raw.get("edge"), f"{where}: edge", positive=True)
    start = _start(raw.get("start", 0), where)
    entry = PlannedEntry(ident, kind, symbol, legs, start, duration, edge)
    return _with_stock_leg(entry, where)


def _leg(raw: object, where: str) -> Leg:
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"{where} must be a mapping")
    side = str(raw.get("side") or raw.get("action") or "").strip().upper()
    side = {"LONG": "BUY", "SHORT": "SELL", "B": "BUY", "S": "SELL"}.get(side, side)
    if side not in {"BUY", "SELL"}:
        raise ScenarioError(f"{where}: side must be buy or sell, got {raw.get('side')!r}")
    right = str(raw.get("right") or raw.get("sec_type") or "").strip().upper()
    right = {"CALL": "C", "PUT": "P", "STOCK": "STK", "S": "STK"}.get(right, right)
    if raw.get("stock") is True or (not right and "strike" not in raw and "expiry" not in raw):
        right = "STK"
    if right == "STK":
        return Leg("STK", side)
    if right not in {"C", "P"}:
        raise ScenarioError(f"{where}: right must be C, P or STK, got {raw.get('right')!r}")
    expiry = _date(raw.get("expiry", raw.get("expiration")), where)
    strike = _number(raw.get("strike"), f"{where}: strike", positive=True)
    return Leg(right, side, expiry, strike)


def _date(value: object, where: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip().replace("-", "")
    if len(text) == 8 and text.isdigit():
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    raise ScenarioError(f"{where}: expiry must be a date (YYYY-MM-DD or YYYYMMDD), got {value!r}")


def _start(value: object, where: str) -> datetime | timedelta:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ScenarioError(f"{where}: start {value} has no time zone (write Z or +00:00)")
        return value.astimezone(UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(seconds=_number(value, f"{where}: start"))
    text = str(value).strip()
    offset = _OFFSET.match(text)
    if offset:
        return timedelta(seconds=float(offset.group(1)) * _UNITS[(offset.group(2) or "").lower()])
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ScenarioError(
            f"{where}: start must be an ISO time or an offset like +90s, got {value!r}"
        ) from exc
    if at.tzinfo is None:
        raise ScenarioError(f"{where}: start {text!r} has no time zone (write Z or +00:00)")
    return at.astimezone(UTC)


def _with_stock_leg(entry: PlannedEntry, where: str) -> PlannedEntry:
    """Check the legs form the kind; add the implied stock leg of a conversion or reversal."""
    options = entry.options()
    stock = [leg for leg in entry.legs if leg.is_stock]
    kind = entry.kind
    if kind in {"conversion", "reversal"}:
        call_side, put_side, stock_side = (
            ("SELL", "BUY", "BUY") if kind == "conversion" else ("BUY", "SELL", "SELL")
        )
        calls = [leg for leg in options if leg.right == "C"]
        puts = [leg for leg in options if leg.right == "P"]
        ok = (
            len(calls) == len(puts) == 1
            and len(stock) <= 1
            and (calls[0].expiry, calls[0].strike) == (puts[0].expiry, puts[0].strike)
            and calls[0].side == call_side
            and puts[0].side == put_side
            and all(leg.side == stock_side for leg in stock)
        )
        if not ok:
            raise ScenarioError(
                f"{where}: a {kind} is {call_side.lower()} a call, {put_side.lower()} the put of "
                f"the same expiry and strike, and {stock_side.lower()} the stock"
            )
        if not stock:
            return PlannedEntry(**{**entry.__dict__, "legs": (*entry.legs, Leg("STK", stock_side))})
        return entry
    if stock:
        raise ScenarioError(f"{where}: a {kind} has no stock leg")
    if kind == "box":
        _check_box(options, where)
    else:
        _check_calendar(options, where)
    return entry


def _check_box(options: list[Leg], where: str) -> None:
    expiries = {leg.expiry for leg in options}
    strikes = sorted({leg.strike or 0.0 for leg in options})
    by_key = {(leg.right, leg.strike): leg.side for leg in options}
    if len(options) != 4 or len(expiries) != 1 or len(strikes) != 2 or len(by_key) != 4:
        raise ScenarioError(
            f"{where}: a box is a call and a put at each of two strikes, one expiry"
        )
    low, high = strikes
    long_box = ("BUY", "SELL", "BUY", "SELL")
    sides = (by_key[("C", low)], by_key[("C", high)], by_key[("P", high)], by_key[("P", low)])
    short_box = tuple("SELL" if s == "BUY" else "BUY" for s in long_box)
    if sides not in {long_box, short_box}:
        raise ScenarioError(
            f"{where}: a long box buys the low call and the high put and sells the other two "
            "(a short box the opposite)"
        )


def _check_calendar(options: list[Leg], where: str) -> None:
    if len(options) != 2:
        raise ScenarioError(f"{where}: a calendar has two option legs")
    near, far = sorted(options, key=lambda leg: leg.expiry or date.min)
    if (
        near.expiry == far.expiry
        or (near.right, near.strike) != (far.right, far.strike)
        or (near.side, far.side) != ("SELL", "BUY")
    ):
        raise ScenarioError(
            f"{where}: a calendar sells the near expiry and buys the far one (same strike, right)"
        )
