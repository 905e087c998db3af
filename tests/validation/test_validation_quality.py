"""The quality report over a database seeded with known defects, and ``alc-data validate``.

Seed (window: the 24 h before NOW = Tuesday 2026-11-24 15:00 New York; SPY trades to 16:15):
four SPY contracts quoted every minute from 14:00 to 15:00 New York, clean except for the
planted defects listed in ``DEFECTS``; one active SPY contract never quoted; one inactive and
one expired contract never quoted; ticks just outside the window on both sides (crossed, so a
leak would show); an AAPL contract with a crossed quote (only seen without ``symbol``).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from alc_data import DataValidator, ValidationResult, ValidationRule
from alc_data.config import load_settings
from alc_data.errors import InvalidArgumentError, UnknownSymbolError
from alc_data.validation import REPORT_KEYS
from alc_data.validation.cli import register
from alc_data.validation.report import render_report
from tests.support.validating import EXPIRY, NOW

START = NOW - timedelta(hours=1)  # 14:00 New York
SPY, AAPL = 1, 2
C500, P500, C510, P510, C520_SILENT, INACTIVE, EXPIRED, AAPL_C = 1, 2, 3, 4, 5, 6, 7, 8

CONTRACTS = [  # id, underlying, expiry, strike, right, active, symbol
    (C500, SPY, EXPIRY, 500, "C", True, "SPY   261218C00500000"),
    (P500, SPY, EXPIRY, 500, "P", True, "SPY   261218P00500000"),
    (C510, SPY, EXPIRY, 510, "C", True, "SPY   261218C00510000"),
    (P510, SPY, EXPIRY, 510, "P", True, "SPY   261218P00510000"),
    (C520_SILENT, SPY, EXPIRY, 520, "C", True, "SPY   261218C00520000"),
    (INACTIVE, SPY, EXPIRY, 530, "C", False, "SPY   261218C00530000"),
    (EXPIRED, SPY, date(2026, 11, 20), 500, "C", True, "SPY   261120C00500000"),
    (AAPL_C, AAPL, EXPIRY, 200, "C", True, "AAPL  261218C00200000"),
]
MIDS = {C500: 10.0, P500: 9.5, C510: 5.0, P510: 14.0, AAPL_C: 5.0}

DEFECTS = {
    "crossed quote (C500 14:30)": "price_sanity",
    "volume falls (C500 14:40)": "volume_monotonic",
    "tick at 08:00 New York (C500)": "time_consistency",
    "wide spread (P500 14:30)": "wide_spread",
    "no ask (C510 14:30)": "coverage",
    "ticks missing 14:11-14:19 (C510)": "gap",
    "last tick 14:54 and no vega (P510)": "stale + missing greeks",
    "never quoted (C520)": "stale",
}


def _tick(contract: int, at: datetime, i: int, **overrides: Any) -> dict[str, Any]:
    mid = MIDS[contract]
    right_delta = -0.5 if contract in (P500, P510) else 0.5
    row = {"contract_id": contract, "time": at, "bid": mid - 0.05, "ask": mid + 0.05,
           "volume": 100 + i, "delta": right_delta, "gamma": 0.01, "theta": -0.05,
           "vega": 0.3, "iv": 0.2, "spot": 200.0 if contract == AAPL_C else 500.0}  # fmt: skip
    row.update(overrides)
    return row


def seed_rows() -> list[dict[str, Any]]:
    rows = []
    for contract in (C500, P500, C510, P510):
        for i in range(61):
            at = START + timedelta(minutes=i)
            if contract == C510 and 11 <= i <= 19:
                continue  # a 10-minute gap
            if contract == P510 and i > 54:
                continue  # goes quiet at 14:54: stale
            overrides: dict[str, Any] = {}
            if contract == C500 and i == 30:
                overrides = {"bid": 10.2, "ask": 10.0}
            if contract == C500 and i == 40:
                overrides = {"volume": 5}
            if contract == P500 and i == 30:
                overrides = {"bid": 8.0, "ask": 11.0}
            if contract == C510 and i == 30:
                overrides = {"ask": None}
            if contract == P510 and i == 54:
                overrides = {"vega": None}
            rows.append(_tick(contract, at, i, **overrides))
    rows.append(_tick(C500, NOW - timedelta(hours=7), 0))  # 08:00 New York
    rows.append(_tick(C500, NOW - timedelta(hours=24), 0, bid=2.0, ask=1.0))  # not in window
    rows.append(_tick(C500, NOW + timedelta(seconds=30), 0, bid=2.0, ask=1.0))  # after now
    rows.append(_tick(AAPL_C, START, 0, bid=6.0, ask=5.0))  # crossed, on AAPL
    return rows


async def seed(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for table in ("market_data_ticks", "stock_data_ticks"):
            await conn.execute(
                text("SELECT create_partition_range(:t, :a, :b)"),
                {"t": table, "a": NOW - timedelta(days=2), "b": NOW + timedelta(days=1)},
            )
        await conn.execute(
            text("INSERT INTO underlying_securities (id, symbol, sec_type) VALUES (:i, :s, 'STK')"),
            [{"i": SPY, "s": "SPY"}, {"i": AAPL, "s": "AAPL"}],
        )
        await conn.execute(
            text(
                "INSERT INTO option_chains (id, underlying_id, expiration_date, strike_price, "
                "option_type, trading_class, active, contract_symbol) "
                "VALUES (:i, :u, :e, :k, :r, 'X', :a, :s)"
            ),
            [dict(zip("iuekras", c, strict=True)) for c in CONTRACTS],
        )
        await conn.execute(
            text(
                "INSERT INTO corporate_actions (underlying_id, action_type, ex_date, amount) "
                "VALUES (1, 'DIVIDEND', '2026-12-01', 1.5)"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO market_data_ticks (contract_id, time, bid_price, ask_price, volume, "
                "delta, gamma, theta, vega, implied_volatility, underlying_price) VALUES "
                "(:contract_id, :time, :bid, :ask, :volume, :delta, :gamma, :theta, :vega, :iv, "
                ":spot)"
            ),
            seed_rows(),
        )


@pytest.fixture
async def seeded(clean_db: AsyncEngine) -> AsyncEngine:
    await seed(clean_db)
    return clean_db


async def test_quality_check_reports_exactly_the_planted_defects(seeded: AsyncEngine) -> None:
    validator = DataValidator(seeded)
    report = await validator.run_quality_check(hours_back=24, symbol="SPY", now=NOW)

    total = 62 + 61 + 52 + 55  # C500 (+ the 08:00 tick), P500, C510, P510
    assert tuple(report) == REPORT_KEYS
    assert report["period_hours"] == 24
    assert report["total_records"] == total
    assert report["price_data_coverage"] == pytest.approx(100 * (total - 1) / total)
    assert report["wide_spread_pct"] == pytest.approx(100 * 1 / (total - 2))
    assert report["stale_contracts"] == 2
    assert report["missing_greeks_contracts"] == 1
    assert report["contracts_with_gaps"] == 1
    assert report["top_gappy_contracts"] == [
        {"contract_id": C510, "contract_symbol": "SPY   261218C00510000", "gap_count": 1,
         "longest_gap_seconds": 600.0}
    ]  # fmt: skip
    assert report["validation_stats"] == {
        "total_validated": total,
        "valid": total - 5,
        "warnings": 3,  # wide spread, the tick after the gap, the tick outside the session
        "invalid": 2,  # crossed, volume fall
        # Staleness is about contracts: P510 (old ticks) and C520_SILENT (none in the window),
        # the same two as stale_contracts above.
        "contract_warnings": 2, "contract_invalid": 0, "contract_rules": ["stale_contract"],
        "rule_failures": {"price_sanity": 1, "stale_contract": 2, "tick_gap": 1,
                          "time_consistency": 1, "volume_monotonic": 1, "wide_spread": 1},
    }  # fmt: skip
    assert validator.last_run is not None and not validator.last_run.passed


async def test_findings_are_persisted_under_one_run_id(seeded: AsyncEngine) -> None:
    validator = DataValidator(seeded)
    await validator.run_quality_check(hours_back=24, symbol="SPY", now=NOW)
    assert validator.last_run is not None
    run_id = validator.last_run.run_id
    async with seeded.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT run_id, metric_type, rule, severity, contract_id, metric_value, passed "
            "FROM data_quality_metrics ORDER BY id"))).all()  # fmt: skip
    assert {r.run_id for r in rows} == {run_id}
    by_type: dict[str, set[tuple[Any, ...]]] = {}
    for r in rows:
        by_type.setdefault(r.metric_type, set()).add((r.rule, r.contract_id, r.severity))
    assert by_type["stale_contract"] == {("stale_contracts", P510, "warning"),
                                         ("stale_contracts", C520_SILENT, "warning")}  # fmt: skip
    assert by_type["missing_greeks"] == {("missing_greeks_contracts", P510, "warning")}
    assert by_type["tick_gaps"] == {("contracts_with_gaps", C510, "warning")}
    assert by_type["rule_finding"] == {
        ("price_sanity", C500, "critical"), ("volume_monotonic", C500, "invalid"),
        ("time_consistency", C500, "warning"), ("wide_spread", P500, "warning"),
        ("tick_gap", C510, "warning"), ("stale_contract", P510, "warning"),
        ("stale_contract", C520_SILENT, "warning"),
    }  # fmt: skip
    [summary] = [r for r in rows if r.metric_type == "quality_run"]
    assert summary.passed is False and summary.severity == "critical"
    assert {r.rule for r in rows if r.metric_type == "summary"} >= {
        "total_records",
        "price_data_coverage",
    }


async def test_without_symbol_every_underlying_counts(seeded: AsyncEngine) -> None:
    report = await DataValidator(seeded).run_quality_check(hours_back=24, now=NOW)
    assert report["total_records"] == 230 + 1
    assert report["validation_stats"]["rule_failures"]["price_sanity"] == 2
    # AAPL's only contract stopped quoting at 14:00: stale as well
    assert report["stale_contracts"] == 3


async def test_a_clean_window_reports_nothing(seeded: AsyncEngine) -> None:
    quiet = NOW - timedelta(hours=2)  # 13:00 New York: before the seeded ticks
    report = await DataValidator(seeded).run_quality_check(hours_back=1, symbol="SPY", now=quiet)
    assert report["total_records"] == 0
    assert report["price_data_coverage"] == 0.0 and report["wide_spread_pct"] == 0.0
    assert report["contracts_with_gaps"] == 0 and report["missing_greeks_contracts"] == 0
    # the four SPY contracts that will be quoted later, plus the silent one, are stale now:
    # the count and the rule's findings are the same five (they once said 5 and nothing)
    assert report["stale_contracts"] == 5
    assert report["validation_stats"]["rule_failures"] == {"stale_contract": 5}
    assert report["validation_stats"]["warnings"] == 0  # no tick, so no tick verdict


# alc-data validate ------------------------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, engine: AsyncEngine) -> Iterator[None]:
    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("ALC_DATABASE_URL", url)
    yield


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="alc-data")
    register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


async def _seed_now(engine: AsyncEngine, *, crossed: bool) -> None:
    now = datetime.now(NOW.tzinfo)
    await seed(engine)  # reference data (its ticks are from NOW, a fixed day)
    async with engine.begin() as conn:
        await conn.execute(
            text("SELECT create_partition_range('market_data_ticks', :a, :b)"),
            {"a": now - timedelta(days=1), "b": now + timedelta(days=1)},
        )
        await conn.execute(
            text("INSERT INTO market_data_ticks (contract_id, time, bid_price, ask_price) "
                 "VALUES (8, :t, :b, 1.0)"),
            {"t": now - timedelta(minutes=1), "b": 2.0 if crossed else 0.9},
        )  # fmt: skip


async def test_cli_validate_json_exits_1_on_a_critical_failure(
    clean_db: AsyncEngine, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    await _seed_now(clean_db, crossed=True)
    args = _parse(["validate", "--hours", "1", "--symbol", "AAPL", "--json"])
    code = await asyncio.to_thread(args.handler, args, load_settings())
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert tuple(report) == REPORT_KEYS
    assert report["total_records"] == 1
    assert report["validation_stats"]["rule_failures"]["price_sanity"] == 1

    args = _parse(["validate", "--hours", "1", "--symbol", "SPY"])
    code = await asyncio.to_thread(args.handler, args, load_settings())
    out = capsys.readouterr().out
    assert code == 0 and "tick rows" in out and "result                 OK" in out


def test_cli_rejects_a_non_positive_window() -> None:
    with pytest.raises(SystemExit):
        _parse(["validate", "--hours", "0"])


async def test_documented_pool_form_works(seeded: AsyncEngine) -> None:
    import asyncpg

    url = seeded.url
    host = url.query.get("host") or url.host  # the embedded server listens on a socket
    pool = await asyncpg.create_pool(
        user=url.username, password=url.password, host=host, port=url.port,
        database=url.database, min_size=1, max_size=2,
    )  # fmt: skip
    try:
        validator = DataValidator(pool)
        report = await validator.run_quality_check(hours_back=24, symbol="spy", now=NOW)
        assert report["price_data_coverage"] == pytest.approx(100 * 229 / 230)
    finally:
        await pool.close()


async def test_inline_hook_is_off_by_default_and_checks_rows_when_enabled(
    seeded: AsyncEngine,
) -> None:
    from alc_data.validation import InlineValidationHook
    from alc_data.validation.hook import TICK_COLUMNS

    def row(contract: int, bid: float, ask: float) -> tuple[Any, ...]:
        values = {"time": NOW - timedelta(minutes=5), "contract_id": contract,
                  "bid_price": bid, "ask_price": ask, "tick_type": "REALTIME"}  # fmt: skip
        return tuple(values.get(c) for c in TICK_COLUMNS)

    rows = [row(C500, 10.0, 10.1), row(P500, 9.6, 9.5)]
    assert await InlineValidationHook().check(rows) is None
    seen: list[Any] = []
    hook = InlineValidationHook(DataValidator(seeded), enabled=True, on_findings=seen.append)
    report = await hook.check(rows)
    assert report is not None and report.total == 2
    assert report.rule_failures == {"price_sanity": 1} and report.critical_failures == 1
    assert hook.terms[P500].right == "P" and seen == [report]


class _Named(ValidationRule):
    async def validate(
        self, snapshot: object, context: object = None
    ) -> tuple[ValidationResult, str]:
        return ValidationResult.VALID, "OK"


@pytest.mark.parametrize("name", ["r" * 65, "", 42, None])
def test_a_rule_name_that_cannot_be_stored_is_refused_when_the_rule_is_made(name: object) -> None:
    with pytest.raises(InvalidArgumentError, match="1 to 64 characters"):
        _Named(name, "a rule")  # type: ignore[arg-type]
    assert _Named("r" * 64, "a rule").name == "r" * 64  # control: 64 characters is fine


async def test_a_rule_renamed_after_the_fact_fails_before_anything_is_stored(
    seeded: AsyncEngine,
) -> None:
    validator = DataValidator(seeded)
    rule = _Named("custom_rule", "a rule")
    validator.rules.append(rule)
    rule.name = "x" * 200
    with pytest.raises(InvalidArgumentError, match="name"):
        await validator.run_quality_check(hours_back=24, now=NOW)
    for hours in (float("nan"), float("inf"), -1.0, 1e12):
        with pytest.raises(InvalidArgumentError, match="hours_back"):
            await DataValidator(seeded).run_quality_check(hours_back=hours, now=NOW)
    rule.name = "custom_rule"  # control: the same run with a storable name is stored
    report = await validator.run_quality_check(hours_back=24, now=NOW)
    assert report["total_records"] > 0
    async with seeded.connect() as conn:
        runs = (await conn.execute(text(
            "SELECT count(DISTINCT run_id) FROM data_quality_metrics"))).scalar_one()  # fmt: skip
    assert runs == 1


async def test_an_unknown_symbol_is_said_so(seeded: AsyncEngine) -> None:
    with pytest.raises(UnknownSymbolError, match=r"unknown symbol NOPE.*SPY"):
        await DataValidator(seeded).run_quality_check(hours_back=24, symbol="NOPE", now=NOW)
    report = await DataValidator(seeded).run_quality_check(hours_back=24, symbol="spy", now=NOW)
    assert report["total_records"] > 0  # control: a stored symbol, in any case


async def test_the_printed_counts_agree(seeded: AsyncEngine) -> None:
    """Once "0 warnings" above a list of stale contracts; "91 stale" but 79 listed."""
    validator = DataValidator(seeded)
    report = await validator.run_quality_check(hours_back=24, symbol="SPY", now=NOW)
    stats = report["validation_stats"]
    assert report["stale_contracts"] == stats["rule_failures"]["stale_contract"] == 2
    text_ = render_report(report)
    assert "stale contracts        2" in text_
    assert "flagged contracts      2 with warnings, 0 invalid" in text_
    assert "    stale_contract           2 contracts" in text_
    assert f"{stats['warnings']} with warnings" in text_
    assert "    price_sanity             1 ticks" in text_
