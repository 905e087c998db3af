"""The TWS API legacy wire format: length-prefixed frames of NUL-terminated ASCII fields.

The layouts here follow ib_async 2.1's ``client.py`` (what it sends) and ``decoder.py`` (what it
expects). The simulator speaks every server version from :data:`MIN_SERVER_VERSION` to
:data:`MAX_SERVER_VERSION` and, as TWS does, answers a client with the highest version both
sides speak (:func:`negotiate`). Inside that range the layouts the simulator sends differ at:
163/164 (contract details: the version field and ``mdSizeMultiplier`` go, size increments come),
166 (errors gain ``advancedOrderRejectJson``) and 176 (symbol samples gain description and
issuer id). Later versions change only messages the simulator never sends (orders, executions).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = [
    "MAX_SERVER_VERSION",
    "MIN_SERVER_VERSION",
    "SERVER_VERSION",
    "In",
    "Out",
    "RequestContract",
    "encode",
    "negotiate",
    "parse_contract",
    "parse_version_range",
    "request_id",
]

#: The oldest server version the simulator speaks (ib_async 2.x's minimum).
MIN_SERVER_VERSION = 157
#: The newest (ib_async 2.x's maximum; IB's official client at 10.x offers up to 226 and gets it).
MAX_SERVER_VERSION = 178
#: What a client offering the whole range gets.
SERVER_VERSION = MAX_SERVER_VERSION


def parse_version_range(text: str) -> tuple[int, int]:
    """The client's ``"v<min>..<max>"`` (or ``"v<n>"``), connect options after a space ignored.

    Raises:
        ValueError: for anything else.
    """
    low, _, high = text.split(" ")[0].removeprefix("v").partition("..")
    lo, hi = int(low), int(high or low)
    if lo > hi:
        raise ValueError(f"empty version range {text!r}")
    return lo, hi


def negotiate(low: int, high: int) -> int | None:
    """The highest version both sides speak, or None when the client's range misses ours."""
    version = min(high, MAX_SERVER_VERSION)
    return version if version >= max(low, MIN_SERVER_VERSION) else None


class In:
    """Message ids the client sends."""

    REQ_MKT_DATA = 1
    CANCEL_MKT_DATA = 2
    PLACE_ORDER = 3
    CANCEL_ORDER = 4
    REQ_OPEN_ORDERS = 5
    REQ_ACCOUNT_UPDATES = 6
    REQ_EXECUTIONS = 7
    REQ_IDS = 8
    REQ_CONTRACT_DATA = 9
    REQ_MKT_DEPTH = 10
    CANCEL_MKT_DEPTH = 11
    REQ_NEWS_BULLETINS = 12
    CANCEL_NEWS_BULLETINS = 13
    SET_SERVER_LOGLEVEL = 14
    REQ_AUTO_OPEN_ORDERS = 15
    REQ_ALL_OPEN_ORDERS = 16
    REQ_MANAGED_ACCTS = 17
    REQ_FA = 18
    REPLACE_FA = 19
    REQ_HISTORICAL_DATA = 20
    EXERCISE_OPTIONS = 21
    REQ_SCANNER_SUBSCRIPTION = 22
    CANCEL_SCANNER_SUBSCRIPTION = 23
    REQ_SCANNER_PARAMETERS = 24
    CANCEL_HISTORICAL_DATA = 25
    REQ_CURRENT_TIME = 49
    REQ_REAL_TIME_BARS = 50
    CANCEL_REAL_TIME_BARS = 51
    REQ_FUNDAMENTAL_DATA = 52
    CANCEL_FUNDAMENTAL_DATA = 53
    REQ_CALC_IMPLIED_VOLAT = 54
    REQ_CALC_OPTION_PRICE = 55
    CANCEL_CALC_IMPLIED_VOLAT = 56
    CANCEL_CALC_OPTION_PRICE = 57
    REQ_GLOBAL_CANCEL = 58
    REQ_MARKET_DATA_TYPE = 59
    REQ_POSITIONS = 61
    REQ_ACCOUNT_SUMMARY = 62
    CANCEL_ACCOUNT_SUMMARY = 63
    CANCEL_POSITIONS = 64
    VERIFY_REQUEST = 65
    VERIFY_MESSAGE = 66
    QUERY_DISPLAY_GROUPS = 67
    SUBSCRIBE_TO_GROUP_EVENTS = 68
    UPDATE_DISPLAY_GROUP = 69
    UNSUBSCRIBE_FROM_GROUP_EVENTS = 70
    START_API = 71
    VERIFY_AND_AUTH_REQUEST = 72
    VERIFY_AND_AUTH_MESSAGE = 73
    REQ_POSITIONS_MULTI = 74
    CANCEL_POSITIONS_MULTI = 75
    REQ_ACCOUNT_UPDATES_MULTI = 76
    CANCEL_ACCOUNT_UPDATES_MULTI = 77
    REQ_SEC_DEF_OPT_PARAMS = 78
    REQ_SOFT_DOLLAR_TIERS = 79
    REQ_FAMILY_CODES = 80
    REQ_MATCHING_SYMBOLS = 81
    REQ_MKT_DEPTH_EXCHANGES = 82
    REQ_SMART_COMPONENTS = 83
    REQ_NEWS_ARTICLE = 84
    REQ_NEWS_PROVIDERS = 85
    REQ_HISTORICAL_NEWS = 86
    REQ_HEAD_TIMESTAMP = 87
    REQ_HISTOGRAM_DATA = 88
    CANCEL_HISTOGRAM_DATA = 89
    CANCEL_HEAD_TIMESTAMP = 90
    REQ_MARKET_RULE = 91
    REQ_PNL = 92
    CANCEL_PNL = 93
    REQ_PNL_SINGLE = 94
    CANCEL_PNL_SINGLE = 95
    REQ_HISTORICAL_TICKS = 96
    REQ_TICK_BY_TICK_DATA = 97
    CANCEL_TICK_BY_TICK_DATA = 98
    REQ_COMPLETED_ORDERS = 99
    REQ_WSH_META_DATA = 100
    CANCEL_WSH_META_DATA = 101
    REQ_WSH_EVENT_DATA = 102
    CANCEL_WSH_EVENT_DATA = 103
    REQ_USER_INFO = 104

    #: Messages whose request id follows the message id directly (no version field).
    VERSIONLESS = frozenset({20, *range(78, 105)})


def request_id(fields: list[str]) -> int:
    """The request id of a client message, or -1 when it has none (or it is not a number)."""
    if not fields or not fields[0].isdigit():
        return -1
    at = 1 if int(fields[0]) in In.VERSIONLESS else 2
    text = fields[at] if len(fields) > at else ""
    return int(text) if text.lstrip("-").isdigit() else -1


class Out:
    """Message ids the server sends."""

    TICK_PRICE = 1
    TICK_SIZE = 2
    ERR_MSG = 4
    ACCT_VALUE = 6
    ACCT_UPDATE_TIME = 8
    NEXT_VALID_ID = 9
    CONTRACT_DATA = 10
    MARKET_DEPTH = 12
    MARKET_DEPTH_L2 = 13
    MANAGED_ACCTS = 15
    RECEIVE_FA = 16
    HISTORICAL_DATA = 17
    SCANNER_PARAMETERS = 19
    TICK_OPTION_COMPUTATION = 21
    TICK_GENERIC = 45
    TICK_STRING = 46
    CURRENT_TIME = 49
    REAL_TIME_BARS = 50
    CONTRACT_DATA_END = 52
    OPEN_ORDER_END = 53
    ACCT_DOWNLOAD_END = 54
    EXECUTION_DATA_END = 55
    TICK_SNAPSHOT_END = 57
    MARKET_DATA_TYPE = 58
    POSITION_END = 62
    ACCOUNT_SUMMARY_END = 64
    VERIFY_COMPLETED = 66
    DISPLAY_GROUP_LIST = 67
    DISPLAY_GROUP_UPDATED = 68
    VERIFY_AND_AUTH_COMPLETED = 70
    POSITION_MULTI_END = 72
    ACCOUNT_UPDATE_MULTI = 73
    ACCOUNT_UPDATE_MULTI_END = 74
    SECURITY_DEFINITION_OPTION_PARAMETER = 75
    SECURITY_DEFINITION_OPTION_PARAMETER_END = 76
    SOFT_DOLLAR_TIERS = 77
    FAMILY_CODES = 78
    SYMBOL_SAMPLES = 79
    MKT_DEPTH_EXCHANGES = 80
    TICK_REQ_PARAMS = 81
    SMART_COMPONENTS = 82
    NEWS_PROVIDERS = 85
    HISTORICAL_NEWS_END = 87
    HEAD_TIMESTAMP = 88
    HISTORICAL_DATA_UPDATE = 90
    MARKET_RULE = 93
    PNL = 94
    PNL_SINGLE = 95
    HISTORICAL_TICKS = 96
    HISTORICAL_TICKS_BID_ASK = 97
    HISTORICAL_TICKS_LAST = 98
    TICK_BY_TICK = 99
    COMPLETED_ORDERS_END = 102
    USER_INFO = 107


_PLAIN = (int, str)


def encode(*fields: object) -> bytes:
    """One frame: a 4-byte big-endian length, then each field's text and a NUL."""
    body = ("\0".join([str(f) if type(f) in _PLAIN else _text(f) for f in fields]) + "\0").encode()
    return _LENGTH.pack(len(body)) + body


_LENGTH = struct.Struct(">I")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value) if value == value else ""
    return str(value)


@dataclass(frozen=True)
class RequestContract:
    """The 12 contract fields ib_async sends inside a request."""

    con_id: int
    symbol: str
    sec_type: str
    expiry: str
    strike: float
    right: str
    multiplier: str
    exchange: str
    primary_exchange: str
    currency: str
    local_symbol: str
    trading_class: str


def _float(text: str) -> float:
    try:
        return float(text) if text else 0.0
    except ValueError:
        return 0.0


def parse_contract(fields: list[str], at: int) -> RequestContract:
    """The contract whose 12 fields start at ``fields[at]``."""
    f = fields[at : at + 12]
    if len(f) < 12:
        raise ValueError("truncated contract")
    right = f[5].upper()
    right = {"CALL": "C", "PUT": "P"}.get(right, right)
    return RequestContract(
        con_id=int(f[0] or 0),
        symbol=f[1].upper(),
        sec_type=f[2].upper(),
        expiry=f[3],
        strike=_float(f[4]),
        right=right,
        multiplier=f[6],
        exchange=f[7].upper(),
        primary_exchange=f[8].upper(),
        currency=f[9].upper(),
        local_symbol=f[10],
        trading_class=f[11].upper(),
    )
