"""The inline validation hook reads the writer's rows (:class:`OptionTick`) as they are."""

from __future__ import annotations

from datetime import timedelta

from alc_data import OptionTick
from alc_data.validation import ContractTerms, InlineValidationHook
from alc_data.validation.hook import TICK_COLUMNS
from tests.support.validating import EXPIRY, NOW


async def test_the_hook_reads_option_tick_rows_by_default() -> None:
    assert OptionTick._fields == TICK_COLUMNS
    at = NOW - timedelta(hours=1)
    row = OptionTick(7, at, 10.2, 10.0, 10.1, 3, 4, 1, 120, 900, 0.2, 0.5, 0.01, -0.05, 0.3,
                     0.1, 500.0)  # fmt: skip
    hook = InlineValidationHook(enabled=True, terms={7: ContractTerms("SPY", EXPIRY, 500.0, "C")})
    (snapshot,) = await hook.snapshots([row])
    assert (snapshot.contract_id, snapshot.time, snapshot.bid_price, snapshot.ask_price) == (
        7, at, 10.2, 10.0,
    )  # fmt: skip
    assert (snapshot.volume, snapshot.underlying_price, snapshot.tick_type) == (
        120, 500.0, "REALTIME",
    )  # fmt: skip
    assert (snapshot.underlying, snapshot.strike, snapshot.right) == ("SPY", 500.0, "C")
    report = await hook.check([row])
    assert report is not None and report.rule_failures["price_sanity"] == 1  # crossed
    assert hook.checked == 1 and hook.rule_failures["price_sanity"] == 1
    assert hook.last_report is report
