"""The TWS API legacy wire format: length-prefixed frames of NUL-terminated ASCII fields.

The layouts here follow ib_async 2.1's ``client.py`` (what it sends) and ``decoder.py`` (what it
expects) at the server version the simulator announces.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["SERVER_VERSION", "In", "Out", "RequestContract", "encode", "parse_contract"]

#: ib_async accepts 157-178. 176 is the newest version whose messages to the client need no
#: fields beyond those below (178 adds fields to execution details; 166+ adds the
#: advancedOrderRejectJson field of errors, 164+ drops mdSizeMultiplier in contract details).
SERVER_VERSION = 176


class In:
    """Message ids the client sends."""

    REQ_MKT_DATA = 1
    CANCEL_MKT_DATA = 2
    PLACE_ORDER = 3
    REQ_OPEN_ORDERS = 5
    REQ_ACCOUNT_UPDATES = 6
    REQ_EXECUTIONS = 7
    REQ_IDS = 8
    REQ_CONTRACT_DATA = 9
    REQ_AUTO_OPEN_ORDERS = 15
    REQ_ALL_OPEN_ORDERS = 16
    REQ_MANAGED_ACCTS = 17
    REQ_HISTORICAL_DATA = 20
    CANCEL_HISTORICAL_DATA = 25
    REQ_CURRENT_TIME = 49
    REQ_MARKET_DATA_TYPE = 59
    REQ_POSITIONS = 61
    REQ_ACCOUNT_SUMMARY = 62
    CANCEL_ACCOUNT_SUMMARY = 63
    CANCEL_POSITIONS = 64
    START_API = 71
    REQ_ACCOUNT_UPDATES_MULTI = 76
    CANCEL_ACCOUNT_UPDATES_MULTI = 77
    REQ_SEC_DEF_OPT_PARAMS = 78
    REQ_HEAD_TIMESTAMP = 87
    CANCEL_HEAD_TIMESTAMP = 90
    REQ_COMPLETED_ORDERS = 99


class Out:
    """Message ids the server sends."""

    TICK_PRICE = 1
    TICK_SIZE = 2
    ERR_MSG = 4
    ACCT_VALUE = 6
    ACCT_UPDATE_TIME = 8
    NEXT_VALID_ID = 9
    CONTRACT_DATA = 10
    MANAGED_ACCTS = 15
    HISTORICAL_DATA = 17
    TICK_OPTION_COMPUTATION = 21
    TICK_GENERIC = 45
    TICK_STRING = 46
    CURRENT_TIME = 49
    CONTRACT_DATA_END = 52
    OPEN_ORDER_END = 53
    ACCT_DOWNLOAD_END = 54
    EXECUTION_DATA_END = 55
    TICK_SNAPSHOT_END = 57
    MARKET_DATA_TYPE = 58
    POSITION_END = 62
    ACCOUNT_SUMMARY_END = 64
    ACCOUNT_UPDATE_MULTI = 73
    ACCOUNT_UPDATE_MULTI_END = 74
    SECURITY_DEFINITION_OPTION_PARAMETER = 75
    SECURITY_DEFINITION_OPTION_PARAMETER_END = 76
    TICK_REQ_PARAMS = 81
    HEAD_TIMESTAMP = 88
    COMPLETED_ORDERS_END = 102


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
