"""Request handlers: each turns one client message into the replies TWS would send."""

from __future__ import annotations

import logging
from datetime import timedelta

from alc_data.exchange_calendar import EXCHANGE_TZ
from alc_data.ib.pacing import HistoricalRequestKey
from alc_data.ib.sim.calculation_requests import CALCULATION_HANDLERS
from alc_data.ib.sim.contracts import (
    contract_details_fields,
    details_for_version,
    resolve,
    sec_def_opt_params,
)
from alc_data.ib.sim.core import HistoryError
from alc_data.ib.sim.history import bar_seconds, format_bar_time, head_timestamp
from alc_data.ib.sim.instruments import OptionSpec, UnderlyingSpec, underlying_by_symbol
from alc_data.ib.sim.minor_requests import MINOR_HANDLERS
from alc_data.ib.sim.protocol import In, Out, parse_contract
from alc_data.ib.sim.session import ClientSession, Handler
from alc_data.ib.sim.stream_requests import STREAM_HANDLERS, HistoryUpdates
from alc_data.ib.sim.streaming import DELAY_SECONDS, Subscription

__all__ = ["HANDLERS"]

_log = logging.getLogger("alc_data.ib.sim")
NO_SECURITY = "No security definition has been found for the request"
PACING = "Historical Market Data Service error message:Historical data request pacing violation"


def _positions(s: ClientSession, f: list[str]) -> None:
    s.send(Out.POSITION_END, 1)


def _open_orders(s: ClientSession, f: list[str]) -> None:
    s.send(Out.OPEN_ORDER_END, 1)


def _completed_orders(s: ClientSession, f: list[str]) -> None:
    s.send(Out.COMPLETED_ORDERS_END)


def _account_updates(s: ClientSession, f: list[str]) -> None:
    if f[2] not in {"1", "true", "True"}:
        return
    account = f[3] or s.server.config.account
    for key, value, currency in (
        ("NetLiquidation", "1000000.00", "USD"),
        ("TotalCashValue", "1000000.00", "USD"),
        ("BuyingPower", "4000000.00", "USD"),
        ("AccountType", "INDIVIDUAL", ""),
    ):
        s.send(Out.ACCT_VALUE, 2, key, value, currency, account)
    s.send(Out.ACCT_UPDATE_TIME, 1, s.now().strftime("%H:%M"))
    s.send(Out.ACCT_DOWNLOAD_END, 1, account)


def _account_updates_multi(s: ClientSession, f: list[str]) -> None:
    req_id, account = int(f[2]), f[3] or s.server.config.account
    s.send(
        Out.ACCOUNT_UPDATE_MULTI, 1, req_id, account, f[4], "NetLiquidation", "1000000.00", "USD"
    )
    s.send(Out.ACCOUNT_UPDATE_MULTI_END, 1, req_id)


def _executions(s: ClientSession, f: list[str]) -> None:
    s.send(Out.EXECUTION_DATA_END, 1, int(f[2]))


def _account_summary(s: ClientSession, f: list[str]) -> None:
    s.send(Out.ACCOUNT_SUMMARY_END, 1, int(f[2]))


def _managed_accounts(s: ClientSession, f: list[str]) -> None:
    s.send(Out.MANAGED_ACCTS, 1, s.server.config.account)


def _ids(s: ClientSession, f: list[str]) -> None:
    s.send(Out.NEXT_VALID_ID, 1, s.server.next_order_id())


def _current_time(s: ClientSession, f: list[str]) -> None:
    s.send(Out.CURRENT_TIME, 1, int(s.now().timestamp()))


def _market_data_type(s: ClientSession, f: list[str]) -> None:
    s.market_data_type = int(f[2])


def _contract_details(s: ClientSession, f: list[str]) -> None:
    req_id = int(f[2])
    contract = parse_contract(f, 3)
    matches = resolve(s.server.model, contract, s.now())
    if not matches:
        s.error(req_id, 200, NO_SECURITY)
        return
    today = s.now().astimezone(EXCHANGE_TZ).date()
    for item in matches:
        fields = contract_details_fields(req_id, item, contract.exchange, today)
        s.send(*details_for_version(fields, s.version))
    s.send(Out.CONTRACT_DATA_END, 1, req_id)


def _sec_def_opt_params(s: ClientSession, f: list[str]) -> None:
    req_id, symbol, sec_type, con_id = int(f[1]), f[2], f[4], int(f[5] or 0)
    spec = underlying_by_symbol(symbol)
    if (
        spec is not None
        and (not con_id or con_id == spec.con_id)
        and (not sec_type or sec_type.upper() == spec.sec_type)
    ):
        for exchange, trading_class, expiries, strikes in sec_def_opt_params(
            s.server.model, spec, s.now()
        ):
            s.send(
                Out.SECURITY_DEFINITION_OPTION_PARAMETER,
                req_id,
                exchange,
                spec.con_id,
                trading_class,
                "100",
                len(expiries),
                *expiries,
                len(strikes),
                *strikes,
            )
    s.send(Out.SECURITY_DEFINITION_OPTION_PARAMETER_END, req_id)


def _one_contract(s: ClientSession, f: list[str], at: int) -> UnderlyingSpec | OptionSpec | None:
    matches = resolve(s.server.model, parse_contract(f, at), s.now())
    return matches[0] if len(matches) == 1 else None


def _market_data(s: ClientSession, f: list[str]) -> None:
    req_id = int(f[2])
    if f[5].upper() == "BAG":
        s.error(req_id, 321, "Error validating request: combo market data is not simulated")
        return
    item = _one_contract(s, f, 3)
    rest = f[16:] if f[15] != "1" else f[19:]
    generic = frozenset(int(t) for t in rest[0].split(",") if t.strip().isdigit())
    snapshot = rest[1] == "1" or rest[2] == "1"
    if item is None:
        s.error(req_id, 200, NO_SECURITY)
        return
    symbol = item.symbol if isinstance(item, UnderlyingSpec) else item.underlying.symbol
    if symbol in s.server.faults.not_subscribed:
        s.error(req_id, 354, "Requested market data is not subscribed.")
        return
    if not snapshot and s.server.lines_in_use() >= s.server.config.lines:
        s.error(req_id, 101, "Max number of tickers has been reached")
        return
    is_option = isinstance(item, OptionSpec)
    sub = Subscription(
        req_id,
        item.con_id,
        generic,
        s.market_data_type,
        is_option,
        item.right if isinstance(item, OptionSpec) else "",
        s.server.config.greeks_interval,
    )
    model = s.server.model
    now = s.now()
    at = now - timedelta(seconds=DELAY_SECONDS) if sub.delayed else now
    if not model.is_open(at) and model.calendar:
        at = model.last_close(at)
    s.send(Out.MARKET_DATA_TYPE, 1, req_id, s.market_data_type)
    tick = model.option_tick(item, 1.0) if isinstance(item, OptionSpec) else 0.01
    s.send(Out.TICK_REQ_PARAMS, req_id, tick, "9c0001", 3)
    s.send_raw(b"".join(sub.messages(model.quote(item.con_id, at))))
    if snapshot:
        s.send(Out.TICK_SNAPSHOT_END, 1, req_id)
    else:
        s.subscriptions[req_id] = sub


def _cancel_market_data(s: ClientSession, f: list[str]) -> None:
    req_id = int(f[2])
    if s.subscriptions.pop(req_id, None) is None:
        s.error(req_id, 300, f"Can't find EId with tickerId:{req_id}")


def _historical_data(s: ClientSession, f: list[str]) -> None:
    req_id = int(f[1])
    contract = parse_contract(f, 2)
    end, bar_size, duration = f[15], f[16], f[17]
    use_rth, what, format_date = f[18] == "1", f[19].upper(), int(f[20] or 1)
    keep_up_to_date = contract.sec_type != "BAG" and len(f) > 21 and f[21] == "1"
    item = _one_contract(s, f, 2)
    if item is None:
        s.error(req_id, 200, NO_SECURITY)
        return
    if keep_up_to_date and end.strip():
        s.error(req_id, 321, "Error validating request: end date not supported with keepUpToDate")
        return
    try:
        bar_seconds(bar_size)
    except HistoryError as exc:  # IB rejects a bad bar size at once, without pacing it
        s.error(req_id, exc.code, exc.message)
        return
    server = s.server
    key = HistoricalRequestKey(
        str(item.con_id), contract.exchange or "SMART", what, bar_size, duration, end, use_rth
    )
    now = server.monotonic()
    if server.faults.take_pacing_violation() or server.pacing.violation(key, now):
        s.error(req_id, 162, PACING)
        return
    server.pacing.record(key, now)
    server.pacing.opened()
    try:
        bars = server.model.bars(
            item.con_id,
            end=end,
            duration=duration,
            bar_size=bar_size,
            what_to_show=what,
            use_rth=use_rth,
        )
    except HistoryError as exc:
        s.error(req_id, exc.code, exc.message)
        return
    finally:
        server.pacing.closed()
    daily = bar_size.strip().lower().endswith(("day", "days"))
    fields: list[object] = [
        Out.HISTORICAL_DATA,
        req_id,
        format_bar_time(bars[0].time, False, 1),
        format_bar_time(bars[-1].time, False, 1),
        len(bars),
    ]
    for b in bars:
        fields += [
            format_bar_time(b.time, daily, format_date),
            b.open,
            b.high,
            b.low,
            b.close,
            b.volume,
            b.wap,
            b.bar_count,
        ]
    s.send(*fields)
    if keep_up_to_date:
        size = bar_seconds(bar_size)
        updates = HistoryUpdates(req_id, item, server.model, size, what, use_rth, format_date, ())
        s.streams[req_id] = updates
        s.send_raw(b"".join(updates.messages(s.now())))


def _cancel_historical_data(s: ClientSession, f: list[str]) -> None:
    s.streams.pop(int(f[2]), None)


def _head_timestamp(s: ClientSession, f: list[str]) -> None:
    req_id = int(f[1])
    item = _one_contract(s, f, 2)
    if item is None:
        s.error(req_id, 200, NO_SECURITY)
        return
    use_rth, format_date = f[15] == "1", int(f[17] or 1)
    at = head_timestamp(s.server.model, item, use_rth)
    s.send(Out.HEAD_TIMESTAMP, req_id, format_bar_time(at, False, format_date))


def _place_order(s: ClientSession, f: list[str]) -> None:
    s.error(int(f[1]), 201, "Order rejected - reason:The simulator does not execute orders")


def _ignore(s: ClientSession, f: list[str]) -> None:
    return None


HANDLERS: dict[int, tuple[str, Handler]] = {
    In.REQ_POSITIONS: ("startup", _positions),
    In.REQ_OPEN_ORDERS: ("startup", _open_orders),
    In.REQ_ALL_OPEN_ORDERS: ("startup", _open_orders),
    In.REQ_COMPLETED_ORDERS: ("startup", _completed_orders),
    In.REQ_ACCOUNT_UPDATES: ("startup", _account_updates),
    In.REQ_ACCOUNT_UPDATES_MULTI: ("startup", _account_updates_multi),
    In.REQ_EXECUTIONS: ("startup", _executions),
    In.REQ_ACCOUNT_SUMMARY: ("startup", _account_summary),
    In.REQ_MANAGED_ACCTS: ("startup", _managed_accounts),
    In.REQ_IDS: ("startup", _ids),
    In.REQ_AUTO_OPEN_ORDERS: ("control", _ignore),
    In.CANCEL_POSITIONS: ("control", _ignore),
    In.CANCEL_ACCOUNT_SUMMARY: ("control", _ignore),
    In.CANCEL_ACCOUNT_UPDATES_MULTI: ("control", _ignore),
    In.CANCEL_HISTORICAL_DATA: ("control", _cancel_historical_data),
    In.CANCEL_HEAD_TIMESTAMP: ("control", _ignore),
    In.REQ_CURRENT_TIME: ("current_time", _current_time),
    In.REQ_MARKET_DATA_TYPE: ("control", _market_data_type),
    In.REQ_CONTRACT_DATA: ("contract_details", _contract_details),
    In.REQ_SEC_DEF_OPT_PARAMS: ("sec_def", _sec_def_opt_params),
    In.REQ_MKT_DATA: ("market_data", _market_data),
    In.CANCEL_MKT_DATA: ("control", _cancel_market_data),
    In.REQ_HISTORICAL_DATA: ("history", _historical_data),
    In.REQ_HEAD_TIMESTAMP: ("head_timestamp", _head_timestamp),
    In.PLACE_ORDER: ("control", _place_order),
    **MINOR_HANDLERS,
    **CALCULATION_HANDLERS,
    **STREAM_HANDLERS,
}
