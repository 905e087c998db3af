"""calculateImpliedVolatility and calculateOptionPrice: one option computation (tick 53) each."""

from __future__ import annotations

from alc_data.ib.sim.calculator import implied_vol, value_at_vol
from alc_data.ib.sim.contracts import resolve
from alc_data.ib.sim.core import Greeks
from alc_data.ib.sim.instruments import OptionSpec
from alc_data.ib.sim.protocol import In, Out, parse_contract
from alc_data.ib.sim.session import ClientSession, Handler
from alc_data.ib.sim.streaming import greek_fields

__all__ = ["CALCULATION_HANDLERS", "CUSTOM_COMPUTATION"]

#: IB's tick type of a calculation's answer (CUST_OPTION_COMPUTATION).
CUSTOM_COMPUTATION = 53


def _request(s: ClientSession, f: list[str]) -> tuple[int, OptionSpec, float, float] | None:
    """(request id, option, the client's number, underlying price) or None after an error."""
    req_id = int(f[2])
    matches = resolve(s.server.model, parse_contract(f, 3), s.now())
    if len(matches) != 1 or not isinstance(matches[0], OptionSpec):
        s.error(req_id, 200, "No security definition has been found for the request")
        return None
    option = matches[0]
    value, und = float(f[15] or 0.0), float(f[16] or 0.0)
    if und <= 0.0:
        und = s.server.model.spot(option.underlying, s.now().timestamp())
    return req_id, option, value, und


def _answer(s: ClientSession, req_id: int, greeks: Greeks | None, und: float) -> None:
    fields = greek_fields(greeks, und)
    s.send(Out.TICK_OPTION_COMPUTATION, req_id, CUSTOM_COMPUTATION, 0, *fields)


def _implied_vol(s: ClientSession, f: list[str]) -> None:
    request = _request(s, f)
    if request is None:
        return
    req_id, option, price, und = request
    if price <= 0.0:
        s.error(req_id, 321, "Error validating request: option price must be positive")
        return
    _answer(s, req_id, implied_vol(s.server.model, option, price, und, s.now().timestamp()), und)


def _option_price(s: ClientSession, f: list[str]) -> None:
    request = _request(s, f)
    if request is None:
        return
    req_id, option, vol, und = request
    if vol <= 0.0:
        s.error(req_id, 321, "Error validating request: volatility must be positive")
        return
    _answer(s, req_id, value_at_vol(s.server.model, option, und, vol, s.now().timestamp()), und)


def _accept(s: ClientSession, f: list[str]) -> None:
    return None


CALCULATION_HANDLERS: dict[int, tuple[str, Handler]] = {
    In.REQ_CALC_IMPLIED_VOLAT: ("market_data", _implied_vol),
    In.REQ_CALC_OPTION_PRICE: ("market_data", _option_price),
    In.CANCEL_CALC_IMPLIED_VOLAT: ("control", _accept),
    In.CANCEL_CALC_OPTION_PRICE: ("control", _accept),
}
