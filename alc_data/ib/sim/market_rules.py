"""IB's market rules: the price increments by price level that reqMarketRule answers.

Contract details list one rule id per valid exchange (``marketRuleIds``); the increments agree
with the ticks the simulator quotes in (:func:`alc_data.ib.sim.valuation.option_tick`).
"""

from __future__ import annotations

from alc_data.ib.sim.instruments import OptionSpec, UnderlyingSpec

__all__ = ["MARKET_RULES", "rule_id"]

#: rule id -> ((low edge, increment), ...)
MARKET_RULES: dict[int, tuple[tuple[float, float], ...]] = {
    26: ((0.0, 0.01),),  # stocks and ETFs: a cent at any price
    32: ((0.0, 0.01), (3.0, 0.05)),  # penny-pilot options: a cent below $3, a nickel above
    110: ((0.0, 0.01),),  # penny-everywhere options (SPY, QQQ, IWM)
    111: ((0.0, 0.05), (3.0, 0.10)),  # SPX/SPXW: a nickel below $3, a dime above
}


def rule_id(contract: UnderlyingSpec | OptionSpec) -> int:
    """The market rule of a contract."""
    if isinstance(contract, UnderlyingSpec):
        return 26
    symbol = contract.underlying.symbol
    if symbol == "SPX":
        return 111
    if symbol == "AAPL":
        return 32
    return 110
