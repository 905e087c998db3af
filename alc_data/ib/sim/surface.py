"""Implied volatility surfaces with skew and term structure, free of static arbitrage.

The surface is Gatheral and Jacquier's SSVI ("Arbitrage-free SVI volatility surfaces", 2014):
total implied variance ``w(k, t) = theta_t / 2 * (1 + rho phi k + sqrt((phi k + rho)^2 + 1 -
rho^2))`` at forward log-moneyness ``k = ln(K / F)``, with the power-law ``phi(theta) = eta /
(theta^gamma (1 + theta)^(1 - gamma))``, ``gamma = 1/2`` and ``eta (1 + |rho|) <= 2``: no
butterfly and no calendar arbitrage (their Corollary 4.1 and Theorem 4.1). The at-the-money
term structure is ``theta_t = s_inf^2 t + (s_0^2 - s_inf^2) (1 - e^(-kappa t)) / kappa``
(increasing in t for any positive short and long levels): the short end follows the day's
volatility regime, the long end the underlying's long-run level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Smile", "atm_total_variance", "smile_for", "total_variance"]

_KAPPA = 3.0  # per year: how fast the short-end level gives way to the long-run one


@dataclass(frozen=True, slots=True)
class Smile:
    """The skew parameters of one underlying (``rho < 0``: puts richer than calls)."""

    rho: float
    eta: float


def smile_for(is_index_like: bool) -> Smile:
    """Index and ETF smiles are steeper than a single stock's."""
    return Smile(-0.72, 1.1) if is_index_like else Smile(-0.45, 1.2)


def atm_total_variance(t: float, short_vol: float, long_vol: float) -> float:
    """``theta_t``: at-the-money total variance at ``t`` years."""
    if t <= 0.0:
        return 0.0
    s0, s1 = short_vol * short_vol, long_vol * long_vol
    return s1 * t + (s0 - s1) * (1.0 - math.exp(-_KAPPA * t)) / _KAPPA


def total_variance(k: float, theta: float, smile: Smile) -> float:
    """SSVI total variance at forward log-moneyness ``k`` given ``theta`` (> 0)."""
    phi: float = smile.eta / (math.sqrt(theta) * math.sqrt(1.0 + theta))  # gamma = 1/2
    rho = smile.rho
    pk = phi * k
    return 0.5 * theta * (1.0 + rho * pk + math.sqrt((pk + rho) ** 2 + 1.0 - rho * rho))
