"""Settlement of an arbitrage's legs, the pure formula shared by the scanner and the simulator.

Per share, the worst-case present value, under the American exercise the legs allow, of what
a position pays (positive) or owes (negative) at the end; strikes ``k1 < k2``, ``df`` the
discount factor to expiry (the near one for a calendar), ``pv_dividends`` the present value of
the dividends before expiry:

- conversion (long stock, long put, short call at K): receives K at expiry at the latest,
  ``+K * df``;
- reversal (short stock, short put, long call): owes K (at once, if the put is assigned) and
  the dividends on the short stock, ``-(K + pv_dividends)``;
- long box (buy the K1 call and the K2 put, sell the others): receives ``(k2 - k1) * df``;
- short box: owes ``k2 - k1`` and, American legs being assignable early, the worse of a
  conversion at K1 or a reversal at K2 left behind: ``-(k2 - k1) - max(k1 (1 - df),
  pv_dividends)``; European legs settle at expiry: ``-(k2 - k1) * df``;
- calendar (sell the near expiry, buy the far, same strike and right): ``0``.
"""

from __future__ import annotations

__all__ = ["KINDS", "settlement"]

KINDS = ("conversion", "reversal", "box", "calendar")


def settlement(
    kind: str,
    strikes: tuple[float, ...],
    *,
    long_box: bool = False,
    df: float,
    pv_dividends: float,
    european: bool,
) -> float:
    """The worst-case present value per share the position settles for (see the module).

    Raises:
        ValueError: an unknown kind.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")
    if kind == "calendar":
        return 0.0
    low, high = min(strikes), max(strikes)
    if kind == "conversion":
        return low * df
    if kind == "reversal":
        return -(low + pv_dividends)
    width = high - low
    if long_box:
        return width * df
    if european:
        return -width * df
    return -width - max(low * (1.0 - df), pv_dividends)
