"""Historical bars from IB: one ``reqHistoricalData`` call, its answer classified.

``IB.reqHistoricalDataAsync`` returns an empty list on a timeout *and* on an error, so the
answer alone cannot tell "no data" from "pacing violation" from "expired contract". This module
listens to ``IB.errorEvent`` and matches errors to requests by request id, so that the caller
gets one :class:`HistoryAnswer` saying which of these happened. Bars come back UTC-aware
(``formatDate=2``); IB's ``-1`` sentinels (volume, WAP, bar count of quote bars) become None.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any

from ib_async import IB, BarData, BarDataList, Contract
from ib_async.wrapper import RequestError

from alc_data import exchange_calendar as cal
from alc_data.errors import BrokerUnavailableError
from alc_data.ib.codes import informational

__all__ = [
    "AnswerKind",
    "HistoryAnswer",
    "HistoryBar",
    "HistoryClient",
    "IBClient",
    "ib_end_time",
]

#: The client type callers pass in (so that ib_async is imported only under ``alc_data.ib``).
IBClient = IB

NO_DATA = "returned no data"
PACING = "pacing violation"
#: Codes that mean the contract has no history to serve (unknown or expired contract).
UNAVAILABLE_CODES = frozenset({200})
#: Connectivity codes: the request was lost with the connection; try again later.
CONNECTIVITY_CODES = frozenset({1100, 1101, 1102})
MAX_REMEMBERED_ERRORS = 1000
#: The stats key of requests that got no answer in time.
TIMEOUT_KEY = "timeout"
_LOST_CONNECTION = ("[Errno", "Peer closed connection", "Socket disconnect")
_FILTERED_LOGGERS = ("ib_async.wrapper", "ib_async.ib", "ib_async.client")
_IB_ERROR_LINE = re.compile(r"(?:Error|Warning) (\d+), reqId (-?\d+):")


class _OwnErrorLines(logging.Filter):
    """Drops ib_async's own log line for each error of a history request (and its timeout
    warning): the client counts them, and its caller reports each kind once."""

    def __init__(self, ib: IB) -> None:
        super().__init__()
        self.ib = ib

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("reqHistoricalData: Timeout"):
            return False
        if record.name == "ib_async.client" and message.startswith(_LOST_CONNECTION):
            return False  # the history client raises BrokerUnavailableError for it
        match = _IB_ERROR_LINE.match(message)
        if match is None:
            return True
        results = getattr(self.ib.wrapper, "_results", {})
        return not isinstance(results.get(int(match[2])), BarDataList)


class AnswerKind(StrEnum):
    """What an answer to a history request means for the caller."""

    BARS = "bars"
    EMPTY = "empty"  # a genuine "no data" answer: record it, never retry it
    PACING = "pacing"  # error 162 pacing violation: retry after a backoff
    TIMEOUT = "timeout"  # no answer in time: retry after a backoff
    UNAVAILABLE = "unavailable"  # error 200: unknown or expired contract
    ERROR = "error"  # anything else (no permission, invalid request, ...)


@dataclass(frozen=True, slots=True)
class HistoryBar:
    """One history bar as IB served it (``time`` is the bar's start, UTC)."""

    time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float | None
    wap: float | None
    bar_count: int | None


@dataclass(frozen=True)
class HistoryAnswer:
    """The outcome of one ``reqHistoricalData`` call."""

    kind: AnswerKind
    bars: list[HistoryBar] = field(default_factory=list)
    code: int | None = None
    message: str | None = None

    @property
    def error_text(self) -> str | None:
        """``"<code>: <message>"`` for errors, None otherwise."""
        if self.kind is AnswerKind.TIMEOUT:
            return "timeout"
        if self.code is None:
            return None
        return f"{self.code}: {self.message}"


def ib_end_time(at: datetime) -> str:
    """An aware instant as IB's UTC ``endDateTime`` (``yyyymmdd-HH:MM:SS``)."""
    if at.tzinfo is None:
        raise ValueError("ib_end_time needs a timezone-aware datetime")
    return at.astimezone(UTC).strftime("%Y%m%d-%H:%M:%S")


def classify(
    code: int | None, message: str, bars: list[HistoryBar], timed_out: bool
) -> HistoryAnswer:
    """Turn a request's error (if any) and bars into a :class:`HistoryAnswer` (pure)."""
    if code is None:
        if bars:
            return HistoryAnswer(AnswerKind.BARS, bars)
        return HistoryAnswer(AnswerKind.TIMEOUT if timed_out else AnswerKind.EMPTY)
    if code == 162 and PACING in message.lower():
        kind = AnswerKind.PACING
    elif code == 162 and NO_DATA in message.lower():
        kind = AnswerKind.EMPTY
    elif code in UNAVAILABLE_CODES:
        kind = AnswerKind.UNAVAILABLE
    elif code in CONNECTIVITY_CODES:
        kind = AnswerKind.TIMEOUT
    else:
        kind = AnswerKind.ERROR
    return HistoryAnswer(kind, [], code, message)


def _optional(value: float) -> float | None:
    return None if value is None or value < 0 or not math.isfinite(value) else float(value)


def to_history_bar(bar: BarData) -> HistoryBar:
    """An ib_async ``BarData`` as a :class:`HistoryBar` (daily bars start at the session open)."""
    when: Any = bar.date
    if isinstance(when, datetime):
        start = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
        start = start.astimezone(UTC)
    elif isinstance(when, date):
        hours = cal.session(when)
        start = hours[0] if hours else datetime.combine(when, time(), cal.EXCHANGE_TZ)
        start = start.astimezone(UTC)
    else:  # pragma: no cover - ib_async always parses the date field
        raise ValueError(f"unexpected bar date {when!r}")
    count = int(bar.barCount)
    return HistoryBar(
        time=start,
        open=float(bar.open),
        high=float(bar.high),
        low=float(bar.low),
        close=float(bar.close),
        volume=_optional(float(bar.volume)),
        wap=_optional(float(bar.average)),
        bar_count=count if count >= 0 else None,
    )


class HistoryClient:
    """Sends history requests over a connected ``IB`` and classifies the answers.

    Use as an async context manager (or call :meth:`close`) so that the error listener is
    detached from the client when done.

    Every IB error the connection delivers meanwhile is counted by code in
    :attr:`error_counts` (timeouts under ``"timeout"``), with the first message of each code
    in :attr:`first_messages`; ib_async's own line per history-request error is not logged
    (a load of thousands of requests would otherwise flood the terminal with them).
    """

    def __init__(self, ib: IB) -> None:
        self.ib = ib
        # Errors by request id; bounded, since the client may carry other requests' errors.
        self._errors: OrderedDict[int, tuple[int, str]] = OrderedDict()
        #: IB errors seen by code (``"162"``, ``"200"``, ...) and timeouts (``"timeout"``).
        self.error_counts: Counter[str] = Counter()
        #: The first message of each key of :attr:`error_counts`.
        self.first_messages: dict[str, str] = {}
        self._filter = _OwnErrorLines(ib)
        for name in _FILTERED_LOGGERS:
            logging.getLogger(name).addFilter(self._filter)
        ib.errorEvent += self._on_error

    def _count(self, key: str, message: str) -> None:
        self.error_counts[key] += 1
        self.first_messages.setdefault(key, message)

    def _on_error(self, req_id: int, code: int, message: str, contract: Any) -> None:
        if informational(code):
            return
        self._count(str(code), message)
        if req_id < 0 or req_id in self._errors:
            return  # not about a request, or a later message of a failed one
        self._errors[req_id] = (code, message)
        while len(self._errors) > MAX_REMEMBERED_ERRORS:
            self._errors.popitem(last=False)

    async def server_time(self) -> datetime:
        """IB's current time (the simulator's clock when talking to it), UTC-aware."""
        now = await self.ib.reqCurrentTimeAsync()
        return now if now.tzinfo is not None else now.replace(tzinfo=UTC)

    async def fetch(
        self,
        contract: Contract,
        *,
        end: datetime,
        duration: str,
        bar_size: str,
        what_to_show: str,
        use_rth: bool,
        timeout: float,  # noqa: ASYNC109 (handed to ib_async, which cancels the request)
    ) -> HistoryAnswer:
        """One ``reqHistoricalData`` (``formatDate=2``) and its classified answer."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        if not self.ib.isConnected():
            raise BrokerUnavailableError("connection closed")
        try:
            result = await self.ib.reqHistoricalDataAsync(
                contract, ib_end_time(end), duration, bar_size, what_to_show, use_rth,
                formatDate=2, timeout=timeout,
            )  # fmt: skip
            req_id, bars = result.reqId, [to_history_bar(b) for b in result]
        except RequestError as exc:  # only when the client has RaiseRequestErrors set
            self._errors.setdefault(exc.reqId, (exc.code, exc.message))
            req_id, bars = exc.reqId, []
        except ConnectionError as exc:  # the socket closed under the request
            raise BrokerUnavailableError(f"connection lost: {exc}") from exc
        code, message = self._errors.pop(req_id, (None, ""))
        timed_out = loop.time() - started >= timeout * 0.999
        answer = classify(code, message, bars, timed_out)
        if answer.kind is AnswerKind.TIMEOUT and code is None:
            if not self.ib.isConnected():
                raise BrokerUnavailableError("connection lost")
            self._count(TIMEOUT_KEY, f"no answer within {timeout:g} s")
        return answer

    def close(self) -> None:
        """Stop listening to the client's errors (and let ib_async log them again)."""
        self.ib.errorEvent -= self._on_error
        for name in _FILTERED_LOGGERS:
            logging.getLogger(name).removeFilter(self._filter)

    async def __aenter__(self) -> HistoryClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
