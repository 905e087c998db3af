"""Which source a connection's rows are recorded under (alc_data.ib.provenance)."""

from __future__ import annotations

import pytest

from alc_data.db.sources import SourceSpec
from alc_data.errors import InvalidRowError
from alc_data.ib.provenance import account_type, connection_source


@pytest.mark.parametrize(
    ("accounts", "expected"),
    [
        (["DU1234567"], "paper"),
        (["DF123456", "DU222"], "paper"),
        (["U1234567"], "live"),
        (["DU1", "U2"], "live"),  # any live account makes the connection a live one
        (["SIMULATED"], "simulator"),
        (["sim-1"], "simulator"),
        ([], "live"),  # nothing said: never assume paper or simulated
    ],
)
def test_account_type(accounts: list[str], expected: str) -> None:
    assert account_type(accounts) == expected


def test_sources_name_the_account_type_not_the_account() -> None:
    paper = connection_source(["DU1234567"], 3)
    assert (paper.name, paper.kind) == ("ib-paper", "broker")
    assert paper.details["market_data_type"] == "delayed"
    assert "DU1234567" not in repr(paper)
    assert connection_source(["U7"], 1).name == "ib-live"
    sim = connection_source(["SIMULATED"], None)
    assert (sim.name, sim.kind) == ("simulator", "simulator")


@pytest.mark.parametrize(("name", "kind"), [("legacy", "user"), ("x", "broker2"), ("", "user")])
def test_bad_or_reserved_sources_are_refused(name: str, kind: str) -> None:
    with pytest.raises(InvalidRowError):
        SourceSpec(name, kind)
