"""One hand-computed case per kind, edge to the cent with fees; legs that must not qualify.

Every case: SPY at 2026-11-18 16:00:30 UTC, rate 4 %, fees $0.65 per contract and $0.005 per
share. The Nov 20 options close at 21:15 UTC: T = (2 d 5 h 15 min from 16:00:00) / 365 d =
191,700 s / 31,536,000 s = 0.0060788 years, DF = exp(-0.04 T) = 0.99975688.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from alc_data.errors import ConfigError
from alc_data.scan import FeeModel, ScanConfig, Scanner
from tests.support.scanning import AS_OF, FAR, NEAR, chain, quote, stock

FEES = FeeModel(per_contract=0.65, per_share=0.005)
CONFIG = ScanConfig(fees=FEES, rate=0.04)


def _conversion_chain(**put: object) -> list:  # type: ignore[type-arg]
    put_args = {"bid": 2.40, "ask": 2.42, **put}
    at = put_args.pop("at", AS_OF)
    return [
        quote(NEAR, 100, "C", 2.50, 2.52, contract_id=1),
        quote(NEAR, 100, "P", put_args["bid"], put_args["ask"], at=at,  # type: ignore[arg-type]
              size=int(put_args.get("size", 10)), contract_id=2),  # type: ignore[call-overload]
    ]  # fmt: skip


def test_years_and_discount_as_the_docstring_says() -> None:
    scanner = Scanner(CONFIG)
    assert scanner.years("SPY", NEAR, AS_OF) == pytest.approx(191_700 / 31_536_000)


def test_conversion() -> None:
    """Buy stock 100.02, buy put 2.42, sell call 2.50: -99.94 a share; receive 100 * DF =
    99.975688: 100 * 0.035688 = 3.5688 - 1.30 - 0.50 = $1.77."""
    found = Scanner(CONFIG).scan(chain(_conversion_chain(), stock(100.00, 100.02)))
    assert [f.kind for f in found] == ["conversion"]
    f = found[0]
    assert round(f.edge, 2) == 1.77
    assert f.fees == pytest.approx(1.80)
    assert f.net_credit == pytest.approx(-9994.0)
    assert [(leg.right, leg.side, leg.price) for leg in f.legs] == [
        ("STK", "BUY", 100.02), ("P", "BUY", 2.42), ("C", "SELL", 2.50),
    ]  # fmt: skip
    assert f.size == 10 and f.first_seen == AS_OF
    assert f.roi_percent == pytest.approx(100 * f.edge / 9994.0)
    # the trade lends 9995.80 (fees included) to get 10000 back at expiry
    assert f.implied_rate == pytest.approx(
        __import__("math").log(10000 / 9995.80) / (191_700 / 31_536_000)
    )
    assert f.early_exercise_risk and not f.ex_dividend_risk


def test_reversal_and_its_dividend() -> None:
    """Sell stock 100.00, sell put 5.20, buy call 0.12: +105.08; owe 105: $8 - $1.80 = $6.20.
    A $0.03 dividend going ex on Nov 19 (05:00 UTC) is owed on the short stock: PV 0.029998,
    $3.00 a unit: $3.20."""
    quotes = [quote(NEAR, 105, "C", 0.10, 0.12), quote(NEAR, 105, "P", 5.20, 5.22)]
    snap = chain(quotes, stock(100.00, 100.02))
    found = Scanner(CONFIG).scan(snap)
    assert [(f.kind, round(f.edge, 2)) for f in found] == [("reversal", 6.20)]
    assert not found[0].ex_dividend_risk
    with_dividend = ScanConfig(
        fees=FEES, rate=0.04, dividends={"SPY": [(date(2026, 11, 19), 0.03)]}
    )
    found = Scanner(with_dividend).scan(snap)
    assert [(f.kind, round(f.edge, 2)) for f in found] == [("reversal", 3.20)]
    assert found[0].ex_dividend_risk and round(found[0].dividend_cost, 2) == 3.00
    # a dividend after expiry changes nothing
    later = ScanConfig(fees=FEES, rate=0.04, dividends={"SPY": [(date(2026, 11, 23), 0.03)]})
    assert round(Scanner(later).scan(snap)[0].edge, 2) == 6.20


def test_long_box() -> None:
    """Buy C100 4.92, sell C110 0.20, buy P110 5.12, sell P100 0.24: -9.60; receive 10 * DF =
    9.997569: 100 * 0.397569 = 39.7569 - 4 * 0.65 = $37.16."""
    quotes = [
        quote(NEAR, 100, "C", 4.90, 4.92), quote(NEAR, 110, "C", 0.20, 0.22),
        quote(NEAR, 110, "P", 5.10, 5.12), quote(NEAR, 100, "P", 0.24, 0.26),
    ]  # fmt: skip
    found = Scanner(CONFIG).scan(chain(quotes))
    assert [(f.kind, round(f.edge, 2)) for f in found] == [("box", 37.16)]
    sides = {(leg.strike, leg.right): leg.side for leg in found[0].legs}
    assert sides == {(100, "C"): "BUY", (110, "C"): "SELL", (110, "P"): "BUY", (100, "P"): "SELL"}


def test_short_box_prices_early_assignment() -> None:
    """Sell C100 5.00 and P110 5.25, buy C110 0.10 and P100 0.05: +10.10 a share. Owed: 10
    and, American legs being assignable early, the worse of 100 (1 - DF) = 0.024312 and the
    dividends (none): 100 * (10.10 - 10.024312) - 2.60 = $4.97 (European: 10 * DF, $7.64)."""
    quotes = [
        quote(NEAR, 100, "C", 5.00, 5.02), quote(NEAR, 110, "C", 0.08, 0.10),
        quote(NEAR, 110, "P", 5.25, 5.27), quote(NEAR, 100, "P", 0.03, 0.05),
    ]  # fmt: skip
    found = Scanner(CONFIG).scan(chain(quotes))
    assert [(f.kind, round(f.edge, 2)) for f in found] == [("box", 4.97)]
    assert found[0].early_exercise_risk
    assert {(leg.strike, leg.right): leg.side for leg in found[0].legs}[(100, "C")] == "SELL"
    european = ScanConfig(fees=FEES, european_symbols=frozenset({"SPY"}))
    assert [round(f.edge, 2) for f in Scanner(european).scan(chain(quotes))] == [7.64]


def test_calendar() -> None:
    """Sell the Nov 20 100 call at 3.00, buy the Nov 27 one at 2.97: $3.00 - $1.30 = $1.70."""
    quotes = [quote(NEAR, 100, "C", 3.00, 3.02), quote(FAR, 100, "C", 2.95, 2.97)]
    found = Scanner(CONFIG).scan(chain(quotes))
    assert [(f.kind, round(f.edge, 2)) for f in found] == [("calendar", 1.70)]
    assert found[0].implied_rate is None


def test_minimum_edge_and_size() -> None:
    snap = chain(_conversion_chain(), stock(100.00, 100.02))
    assert len(Scanner(ScanConfig(fees=FEES, min_edge=1.76)).scan(snap)) == 1
    assert Scanner(ScanConfig(fees=FEES, min_edge=1.78)).scan(snap) == []
    small = chain(_conversion_chain(size=3), stock(100.00, 100.02))
    assert len(Scanner(ScanConfig(fees=FEES, min_size=3)).scan(small)) == 1
    assert Scanner(ScanConfig(fees=FEES, min_size=4)).scan(small) == []


@pytest.mark.parametrize(
    ("put", "why"),
    [
        ({"bid": None}, "no bid"),
        ({"ask": None}, "no ask"),
        ({"size": 0}, "no size"),
        ({"bid": 2.43}, "crossed: bid above ask"),
        ({"at": AS_OF - timedelta(milliseconds=1001)}, "stale: 1001 ms before the other legs"),
    ],
)
def test_no_finding_when_a_leg_does_not_qualify(put: dict[str, object], why: str) -> None:
    scanner = Scanner(CONFIG)
    assert len(scanner.scan(chain(_conversion_chain(), stock(100.00, 100.02)))) == 1  # control
    assert scanner.scan(chain(_conversion_chain(**put), stock(100.00, 100.02))) == [], why


def test_skew_within_the_limit_qualifies() -> None:
    snap = chain(_conversion_chain(at=AS_OF - timedelta(milliseconds=999)), stock(100.0, 100.02))
    assert len(Scanner(CONFIG).scan(snap)) == 1


def test_no_finding_without_a_two_sided_stock() -> None:
    assert Scanner(CONFIG).scan(chain(_conversion_chain(), stock(0.0, 100.02))) == []
    assert Scanner(CONFIG).scan(chain(_conversion_chain(), None)) == []


def test_kinds_restrict_the_scan() -> None:
    snap = chain(_conversion_chain(), stock(100.00, 100.02))
    assert Scanner(ScanConfig(fees=FEES, kinds=("box", "calendar"))).scan(snap) == []
    with pytest.raises(ConfigError):
        ScanConfig(kinds=("butterfly",))
