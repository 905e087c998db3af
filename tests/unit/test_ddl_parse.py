"""Offline check: every statement the migrations emit parses as PostgreSQL (pglast)."""

from __future__ import annotations

import pglast
import pytest

from alc_data.db import partitioning, timescale
from alc_data.db.timeseries import ROLLUPS

TIMESCALE = timescale.all_statements(retention_days=30) + timescale.downgrade_statements()
POSTGRES = partitioning.upgrade_statements() + partitioning.downgrade_statements()


@pytest.mark.parametrize("sql", TIMESCALE + POSTGRES)
def test_statement_parses(sql: str) -> None:
    tree = pglast.parse_sql(sql)
    assert len(tree) == 1
    if "LANGUAGE plpgsql" in sql:
        pglast.parse_plpgsql(sql)


def test_timescale_statements_cover_every_object() -> None:
    joined = "\n".join(timescale.all_statements(retention_days=30))
    for table in ("market_data_ticks", "stock_data_ticks", "option_bars", "stock_bars"):
        assert f"create_hypertable('{table}'" in joined
        assert f"add_columnstore_policy('{table}'" in joined
    for spec in ROLLUPS:
        assert f"CREATE MATERIALIZED VIEW {spec.name}" in joined
        assert f"add_continuous_aggregate_policy('{spec.name}'" in joined
    assert joined.count("add_retention_policy") == 2
    assert "add_retention_policy" not in "\n".join(timescale.all_statements(retention_days=None))


def test_aggregates_are_created_without_data_and_in_real_time() -> None:
    for sql in timescale.aggregate_statements():
        assert sql.rstrip().endswith("WITH NO DATA")
        assert "timescaledb.materialized_only = false" in sql


@pytest.mark.parametrize(
    ("text", "ok"), [("2.18.0", True), ("2.23.0-dev", True), ("2.17.2", False), ("1.7", False)]
)
def test_version_gate(text: str, ok: bool) -> None:
    from alc_data.errors import BackendUnavailableError

    if ok:
        assert timescale.check_version(text) >= (2, 18)
    else:
        with pytest.raises(BackendUnavailableError, match=r"2\.18"):
            timescale.check_version(text)
