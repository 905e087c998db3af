"""The requests around the market data: market rules, symbol search, depth, PnL, news, refusals.

Each gets what TWS would answer an account without orders, positions, news or FA rights: an
empty list where TWS sends one, IB's own refusal (error code and text) where TWS refuses, and
for the few request types the simulator does not model, error 321 naming the request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from alc_data.ib.sim.contracts import resolve
from alc_data.ib.sim.instruments import UNDERLYINGS, OptionSpec, UnderlyingSpec
from alc_data.ib.sim.market import MarketModel
from alc_data.ib.sim.market_rules import MARKET_RULES
from alc_data.ib.sim.protocol import In, Out, encode, parse_contract, request_id
from alc_data.ib.sim.session import ClientSession, Handler

__all__ = ["MINOR_HANDLERS", "matching_symbols", "not_simulated"]

_MAX_SYMBOLS = 16  # IB answers at most 16 matches
_SMART_COMPONENTS = ((1, "ARCA", "P"), (2, "NASDAQ", "Q"), (3, "NYSE", "N"), (4, "CBOE", "W"))
_DEPTH_EXCHANGES = (("ARCA", "STK", "ARCA", "Deep", 1), ("NASDAQ", "STK", "NASDAQ", "Deep", 1))


def not_simulated(name: str) -> Handler:
    """A handler refusing a request type the simulator does not model (error 321)."""

    def refuse(s: ClientSession, f: list[str]) -> None:
        s.error(request_id(f), 321, f"Error validating request: {name} is not simulated")

    return refuse


def _accept(s: ClientSession, f: list[str]) -> None:
    """A request TWS takes without a reply (cancels, log level, bulletins with none to send)."""
    return None


def _cancel_order(s: ClientSession, f: list[str]) -> None:
    order_id = int(f[2])
    s.error(order_id, 10147, f"OrderId {order_id} that needs to be cancelled is not found.")


def _fa(s: ClientSession, f: list[str]) -> None:
    s.error(
        int(f[4]) if len(f) > 4 and f[4].isdigit() else -1,
        321,
        "Error validating request.-'bE' : cause - FA data operations ignored for non FA customers.",
    )


def _scanner_parameters(s: ClientSession, f: list[str]) -> None:
    s.send(Out.SCANNER_PARAMETERS, 1, "<ScanParameterResponse></ScanParameterResponse>")


def _fundamental_data(s: ClientSession, f: list[str]) -> None:
    s.error(
        int(f[2]),
        430,
        "We are sorry, but fundamentals data for the security specified is not available."
        "failed to fetch",
    )


def _verify(s: ClientSession, f: list[str]) -> None:
    s.send(Out.VERIFY_COMPLETED, 1, 0, "API verification is not needed by the simulator")


def _verify_and_auth(s: ClientSession, f: list[str]) -> None:
    s.send(Out.VERIFY_AND_AUTH_COMPLETED, 1, 0, "API verification is not needed by the simulator")


def _display_groups(s: ClientSession, f: list[str]) -> None:
    s.send(Out.DISPLAY_GROUP_LIST, 1, int(f[2]), "1|2|3|4|5|6|7")


def _group_events(s: ClientSession, f: list[str]) -> None:
    s.send(Out.DISPLAY_GROUP_UPDATED, 1, int(f[2]), "")


def _positions_multi(s: ClientSession, f: list[str]) -> None:
    s.send(Out.POSITION_MULTI_END, 1, int(f[2]))


def _soft_dollar_tiers(s: ClientSession, f: list[str]) -> None:
    s.send(Out.SOFT_DOLLAR_TIERS, int(f[1]), 0)


def _family_codes(s: ClientSession, f: list[str]) -> None:
    s.send(Out.FAMILY_CODES, 1, s.server.config.account, "")


def matching_symbols(pattern: str) -> list[UnderlyingSpec]:
    """The underlyings whose symbol starts with ``pattern`` or whose name contains it."""
    text = pattern.strip().upper()
    if not text:
        return []
    by_symbol = [u for u in UNDERLYINGS if u.symbol.startswith(text)]
    by_name = [u for u in UNDERLYINGS if text in u.long_name.upper() and u not in by_symbol]
    return (by_symbol + by_name)[:_MAX_SYMBOLS]


def _matching_symbols(s: ClientSession, f: list[str]) -> None:
    found = matching_symbols(f[2] if len(f) > 2 else "")
    fields: list[object] = [Out.SYMBOL_SAMPLES, int(f[1]), len(found)]
    for u in found:
        primary = u.primary_exchange or u.exchange
        fields += [u.con_id, u.symbol, u.sec_type, primary, "USD", 1, "OPT"]
        if s.version >= 176:
            fields += [u.long_name, ""]
    s.send(*fields)


def _depth_exchanges(s: ClientSession, f: list[str]) -> None:
    fields: list[object] = [Out.MKT_DEPTH_EXCHANGES, len(_DEPTH_EXCHANGES)]
    for entry in _DEPTH_EXCHANGES:
        fields += entry
    s.send(*fields)


def _smart_components(s: ClientSession, f: list[str]) -> None:
    fields: list[object] = [Out.SMART_COMPONENTS, int(f[1]), len(_SMART_COMPONENTS)]
    for entry in _SMART_COMPONENTS:
        fields += entry
    s.send(*fields)


def _news_providers(s: ClientSession, f: list[str]) -> None:
    s.send(Out.NEWS_PROVIDERS, 0)


def _historical_news(s: ClientSession, f: list[str]) -> None:
    s.send(Out.HISTORICAL_NEWS_END, int(f[1]), 0)


def _market_rule(s: ClientSession, f: list[str]) -> None:
    rule = int(f[1])
    increments = MARKET_RULES.get(rule, ())
    fields: list[object] = [Out.MARKET_RULE, rule, len(increments)]
    for low, step in increments:
        fields += [low, step]
    s.send(*fields)


def _pnl(s: ClientSession, f: list[str]) -> None:
    s.send(Out.PNL, int(f[1]), 0.0, 0.0, 0.0)


def _pnl_single(s: ClientSession, f: list[str]) -> None:
    s.send(Out.PNL_SINGLE, int(f[1]), 0, 0.0, 0.0, 0.0, 0.0)


def _user_info(s: ClientSession, f: list[str]) -> None:
    s.send(Out.USER_INFO, int(f[1]), "")


@dataclass
class DepthStream:
    """reqMktDepth: the top of the book (one row a side), updated as the quote changes."""

    req_id: int
    con_id: int
    model: MarketModel
    smart: bool
    sent: dict[int, tuple[float, int]] = field(default_factory=dict)

    def messages(self, now: datetime) -> list[bytes]:
        """Insert each side once, then update it when its price or size changes."""
        q = self.model.quote(self.con_id, now)
        out = []
        for side, price, size in ((1, q.bid, q.bid_size), (0, q.ask, q.ask_size)):
            if price is None or self.sent.get(side) == (price, size):
                continue
            operation = 1 if side in self.sent else 0
            self.sent[side] = (price, size)
            if self.smart:
                l2 = (Out.MARKET_DEPTH_L2, 1, self.req_id, 0, "SMART", operation, side)
                out.append(encode(*l2, price, size, 1))
            else:
                row = (Out.MARKET_DEPTH, 1, self.req_id, 0, operation, side)
                out.append(encode(*row, price, size))
        return out


def _market_depth(s: ClientSession, f: list[str]) -> None:
    req_id = int(f[2])
    matches = resolve(s.server.model, parse_contract(f, 3), s.now())
    if len(matches) != 1:
        s.error(req_id, 200, "No security definition has been found for the request")
        return
    item: UnderlyingSpec | OptionSpec = matches[0]
    if isinstance(item, UnderlyingSpec) and item.is_index:
        s.error(
            req_id,
            10092,
            "Deep market data is not supported for this combination of security type/exchange",
        )
        return
    stream = DepthStream(req_id, item.con_id, s.server.model, len(f) > 16 and f[16] == "1")
    s.streams[req_id] = stream
    s.send_raw(b"".join(stream.messages(s.now())))


def _cancel_stream(s: ClientSession, f: list[str]) -> None:
    s.streams.pop(int(f[2]), None)


MINOR_HANDLERS: dict[int, tuple[str, Handler]] = {
    In.CANCEL_ORDER: ("control", _cancel_order),
    In.REQ_MKT_DEPTH: ("market_data", _market_depth),
    In.CANCEL_MKT_DEPTH: ("control", _cancel_stream),
    In.REQ_NEWS_BULLETINS: ("control", _accept),
    In.CANCEL_NEWS_BULLETINS: ("control", _accept),
    In.SET_SERVER_LOGLEVEL: ("control", _accept),
    In.REQ_FA: ("control", _fa),
    In.REPLACE_FA: ("control", _fa),
    In.EXERCISE_OPTIONS: ("control", not_simulated("exerciseOptions")),
    In.REQ_SCANNER_SUBSCRIPTION: ("control", not_simulated("reqScannerSubscription")),
    In.CANCEL_SCANNER_SUBSCRIPTION: ("control", _accept),
    In.REQ_SCANNER_PARAMETERS: ("control", _scanner_parameters),
    In.REQ_FUNDAMENTAL_DATA: ("control", _fundamental_data),
    In.CANCEL_FUNDAMENTAL_DATA: ("control", _accept),
    In.REQ_GLOBAL_CANCEL: ("control", _accept),
    In.VERIFY_REQUEST: ("control", _verify),
    In.VERIFY_MESSAGE: ("control", _verify),
    In.QUERY_DISPLAY_GROUPS: ("control", _display_groups),
    In.SUBSCRIBE_TO_GROUP_EVENTS: ("control", _group_events),
    In.UPDATE_DISPLAY_GROUP: ("control", _accept),
    In.UNSUBSCRIBE_FROM_GROUP_EVENTS: ("control", _accept),
    In.START_API: ("control", _accept),
    In.VERIFY_AND_AUTH_REQUEST: ("control", _verify_and_auth),
    In.VERIFY_AND_AUTH_MESSAGE: ("control", _verify_and_auth),
    In.REQ_POSITIONS_MULTI: ("startup", _positions_multi),
    In.CANCEL_POSITIONS_MULTI: ("control", _accept),
    In.REQ_SOFT_DOLLAR_TIERS: ("control", _soft_dollar_tiers),
    In.REQ_FAMILY_CODES: ("control", _family_codes),
    In.REQ_MATCHING_SYMBOLS: ("contract_details", _matching_symbols),
    In.REQ_MKT_DEPTH_EXCHANGES: ("control", _depth_exchanges),
    In.REQ_SMART_COMPONENTS: ("control", _smart_components),
    In.REQ_NEWS_ARTICLE: ("control", not_simulated("reqNewsArticle")),
    In.REQ_NEWS_PROVIDERS: ("control", _news_providers),
    In.REQ_HISTORICAL_NEWS: ("control", _historical_news),
    In.REQ_HISTOGRAM_DATA: ("history", not_simulated("reqHistogramData")),
    In.CANCEL_HISTOGRAM_DATA: ("control", _accept),
    In.REQ_MARKET_RULE: ("contract_details", _market_rule),
    In.REQ_PNL: ("control", _pnl),
    In.CANCEL_PNL: ("control", _accept),
    In.REQ_PNL_SINGLE: ("control", _pnl_single),
    In.CANCEL_PNL_SINGLE: ("control", _accept),
    In.REQ_WSH_META_DATA: ("control", not_simulated("reqWshMetaData")),
    In.CANCEL_WSH_META_DATA: ("control", _accept),
    In.REQ_WSH_EVENT_DATA: ("control", not_simulated("reqWshEventData")),
    In.CANCEL_WSH_EVENT_DATA: ("control", _accept),
    In.REQ_USER_INFO: ("control", _user_info),
}
