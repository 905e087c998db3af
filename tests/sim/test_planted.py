"""Planted opportunities: each kind shows its stated edge to the cent in the quotes a real
ib_async client receives, only inside its window, and nowhere else in the market."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from ib_async import IB, Option, Stock, Ticker

from alc_data.errors import ScenarioError
from alc_data.ib.sim import SimClock, SimConfig, SimServer
from alc_data.ib.sim.instruments import OptionSpec
from alc_data.ib.sim.planting import Planter
from alc_data.ib.sim.scenario import load_scenario, parse_scenario

pytestmark = pytest.mark.timeout(120)
START = datetime(2026, 11, 18, 16, 0, 7, tzinfo=UTC)  # a Wednesday, 11:00 New York
FEES = {"per_contract": 0.65, "per_share": 0.005}
Until = Callable[..., Awaitable[None]]


def _leg(expiry: str, strike: float, right: str, side: str) -> dict[str, object]:
    return {"expiry": expiry, "strike": strike, "right": right, "side": side}


SCENARIO: dict[str, Any] = {
    "fees": FEES,
    "opportunities": [
        {
            "id": "conv-577",
            "kind": "conversion",
            "symbol": "SPY",
            "legs": [
                _leg("2026-11-20", 577, "C", "sell"),
                _leg("2026-11-20", 577, "P", "buy"),
                {"right": "STK", "side": "buy"},
            ],
            "start": "+60s",
            "duration_s": 120,
            "edge": 0.75,
        },
        {
            "id": "box-580-583",
            "kind": "box",
            "symbol": "SPY",
            "legs": [
                _leg("2026-11-25", 580, "C", "buy"),
                _leg("2026-11-25", 583, "C", "sell"),
                _leg("2026-11-25", 583, "P", "buy"),
                _leg("2026-11-25", 580, "P", "sell"),
            ],
            "start": "+60s",
            "duration_s": 120,
            "edge": 2.0,
        },
        {
            "id": "rev-583",
            "kind": "reversal",
            "symbol": "SPY",
            "legs": [_leg("2026-11-18", 583, "C", "buy"), _leg("2026-11-18", 583, "P", "sell")],
            "start": "2026-11-18T16:01:07Z",
            "duration_s": 120,
            "edge": 0.25,
        },
        {
            "id": "cal-592",
            "kind": "calendar",
            "symbol": "SPY",
            "legs": [_leg("2026-11-24", 592, "C", "sell"), _leg("2026-11-25", 592, "C", "buy")],
            "start": 60,
            "duration_s": 120,
            "edge": 0.25,
        },
    ],
}
INSIDE = [START + timedelta(seconds=s) for s in (60, 95, 179)]
OUTSIDE = [START + timedelta(seconds=s) for s in (30, 59, 180, 240)]


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scenario") / "planted.yaml"
    path.write_text(yaml.safe_dump(SCENARIO))
    return path


@pytest.fixture
async def planted_sim(scenario_file: Path) -> AsyncIterator[SimServer]:
    config = SimConfig(
        seed=7, update_interval=0.02, scenario=load_scenario(scenario_file), scenario_start=START
    )
    server = SimServer(config, port=0, clock=SimClock(START))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def _client_edge(
    kind: str, tickers: dict[str, Ticker], legs: list[dict[str, Any]], at: datetime, sim: SimServer
) -> float:
    """The edge computed the way a scanner would, from what the client received."""
    options = [leg for leg in legs if leg.get("right") != "STK"]
    if kind in {"conversion", "reversal"} and len(options) == len(legs):  # the implied stock leg
        legs = [*legs, {"right": "STK", "side": "buy" if kind == "conversion" else "sell"}]
    near = min(options, key=lambda leg: str(leg["expiry"]))
    spec = sim.model.option(
        "SPY", date.fromisoformat(str(near["expiry"])), float(near["strike"]), str(near["right"])
    )
    assert spec is not None
    df = math.exp(-sim.model.rate * sim.model.time_to_expiry(spec, at))
    cash = 0.0
    for leg in legs:
        key = (
            "STK" if leg.get("right") == "STK" else f"{leg['expiry']}{leg['strike']}{leg['right']}"
        )
        t = tickers[key]
        cash += max(t.bid, 0.0) if str(leg["side"]).upper() == "SELL" else -t.ask
    strikes = sorted({float(leg["strike"]) for leg in options})
    n_options = len(options)
    shares = 100 if kind in {"conversion", "reversal"} else 0
    fees = n_options * FEES["per_contract"] + shares * FEES["per_share"]
    pv = tickers[f"{near['expiry']}{near['strike']}{near['right']}"].modelGreeks
    assert pv is not None and pv.pvDividend is not None
    if kind == "conversion":
        settle = strikes[0] * df
    elif kind == "reversal":
        settle = -(strikes[0] + pv.pvDividend)
    elif kind == "box":
        settle = (strikes[1] - strikes[0]) * df
    else:
        settle = 0.0
    return 100.0 * (cash + settle) - fees


async def test_each_kind_shows_its_edge_to_the_cent_only_inside_its_window(
    planted_sim: SimServer, until: Until
) -> None:
    sim = planted_sim
    ib = IB()
    await ib.connectAsync("127.0.0.1", sim.port, clientId=1)
    try:
        spy = Stock("SPY", "SMART", "USD")
        await ib.qualifyContractsAsync(spy)
        tickers: dict[str, Ticker] = {"STK": ib.reqMktData(spy)}
        for entry in SCENARIO["opportunities"]:
            for leg in entry["legs"]:
                if leg.get("right") == "STK":
                    continue
                key = f"{leg['expiry']}{leg['strike']}{leg['right']}"
                option = Option(
                    "SPY",
                    str(leg["expiry"]).replace("-", ""),
                    float(leg["strike"]),
                    str(leg["right"]),
                    "SMART",
                )
                assert await ib.qualifyContractsAsync(option) == [option]
                tickers[key] = ib.reqMktData(option)
        for at in INSIDE + OUTSIDE:
            sim.clock.freeze(at)
            await until(lambda at=at: all(_shows(sim, t, at) for t in tickers.values()), 20)
            for entry in SCENARIO["opportunities"]:
                edge = _client_edge(entry["kind"], tickers, entry["legs"], at, sim)
                if at in INSIDE:
                    assert round(edge, 2) == entry["edge"], (entry["id"], at, edge)
                else:
                    assert edge < 0, (entry["id"], at, edge)  # absent before and after
    finally:
        ib.disconnect()


def _shows(sim: SimServer, ticker: Ticker, at: datetime) -> bool:
    q = sim.model.quote(ticker.contract.conId, at) if ticker.contract else None
    if q is None or q.bid is None:
        return False
    if (ticker.bid, ticker.ask) != (q.bid if q.bid > 0 else -1, q.ask):  # no bid: IB's -1
        return False
    if ticker.contract is not None and ticker.contract.secType == "OPT":
        greeks = ticker.modelGreeks
        return (
            greeks is not None and q.greeks is not None and greeks.undPrice == round(q.und_price, 4)
        )
    return True


async def test_nothing_else_in_the_chain_is_an_opportunity(planted_sim: SimServer) -> None:
    planter = planted_sim.planter
    assert planter is not None
    planted = {(p.kind, frozenset(leg.con_id for leg in p.legs)) for p in planted_sim.planted()}
    found = set()
    at = START + timedelta(seconds=95)
    for expiry in (date(2026, 11, 20), date(2026, 11, 25)):
        # every combination trading a contract near the money (with any partner in the chain)
        for strike in (k for k in planted_sim.model.strikes("SPY", expiry) if 570 <= k <= 595):
            for right in "CP":
                option = planted_sim.model.option("SPY", expiry, strike, right)
                assert option is not None
                for side in ("SELL", "BUY"):
                    for kind, legs in planter.combinations(option, side, at.timestamp()):
                        edge = planter.combination_edge(kind, legs, at.timestamp())
                        if edge > 0:
                            found.add((kind, frozenset(spec.con_id for _, spec in legs)))
    assert found  # the positive control: the planted conversion and box are seen
    assert found <= planted  # and nothing the scenario does not list


def test_planted_lists_con_ids_and_windows(planted_sim: SimServer) -> None:
    entries = planted_sim.planted()
    assert [p.id for p in entries] == ["box-580-583", "cal-592", "conv-577", "rev-583"]
    conv = next(p for p in entries if p.id == "conv-577")
    assert (conv.start, conv.end, conv.edge) == (
        START + timedelta(seconds=60),
        START + timedelta(seconds=180),
        0.75,
    )
    call = planted_sim.model.option("SPY", date(2026, 11, 20), 577.0, "C")
    assert call is not None
    assert (conv.legs[0].con_id, conv.legs[0].side, conv.legs[0].moved) == (
        call.con_id,
        "SELL",
        True,
    )
    assert conv.legs[-1].con_id == 756733 and conv.legs[-1].right == "STK"
    assert planted_sim.planted(START, START + timedelta(seconds=60)) == []
    assert len(planted_sim.planted(START + timedelta(seconds=179), None)) == 4


def test_sim_planted_json_matches_the_server(planted_sim: SimServer, scenario_file: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "alc_data.ib.sim",
            "planted",
            "--scenario",
            str(scenario_file),
            "--start",
            START.isoformat(),
            "--seed",
            "7",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=100,
        check=True,
    )
    document = json.loads(out.stdout)
    assert document["planted"] == [p.to_json() for p in planted_sim.planted()]
    assert document["rate"] == planted_sim.model.rate


def test_a_conversion_that_would_create_a_box_is_rejected_or_listed() -> None:
    big = {**SCENARIO, "opportunities": [{**SCENARIO["opportunities"][0], "edge": 25.0}]}
    model = SimServer(SimConfig(seed=7), port=0, clock=SimClock(START)).model
    with pytest.raises(ScenarioError, match=r"conv-577 would also create a box"):
        Planter(model, parse_scenario(big), START)
    listed = Planter(model, parse_scenario(big), START, implied="list")
    implied = [p for p in listed.planted() if p.implied_by == "conv-577"]
    assert implied and all(p.kind == "box" and p.edge > 0 for p in implied)
    # the positive control: the same entry at its small edge plants alone
    assert [p.id for p in Planter(model, parse_scenario(SCENARIO), START).planted()][:1]


def test_entries_sharing_a_contract_at_once_are_rejected() -> None:
    twin = {**SCENARIO["opportunities"][0], "id": "twin", "start": "+120s"}
    clash = {**SCENARIO, "opportunities": [SCENARIO["opportunities"][0], twin]}
    model = SimServer(SimConfig(seed=7), port=0, clock=SimClock(START)).model
    with pytest.raises(ScenarioError, match="conv-577 and twin share an option"):
        Planter(model, parse_scenario(clash), START, check=False)
    later = {**twin, "start": "+400s"}
    apart = {**SCENARIO, "opportunities": [SCENARIO["opportunities"][0], later]}
    assert len(Planter(model, parse_scenario(apart), START, check=False).planted()) == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "butterfly"}, "kind must be one of"),
        ({"start": "2026-11-18T16:01:07"}, "has no time zone"),
        ({"edge": -1}, "edge must be a positive number"),
        (
            {"legs": [_leg("2026-11-20", 577, "C", "buy"), _leg("2026-11-20", 577, "P", "buy")]},
            "a conversion is sell a call",
        ),
        (
            {"legs": [{"expiry": "soon", "strike": 1, "right": "C", "side": "sell"}]},
            "expiry must be a date",
        ),
    ],
)
def test_bad_entries_get_a_typed_error(change: dict[str, object], message: str) -> None:
    bad = {**SCENARIO, "opportunities": [{**SCENARIO["opportunities"][0], **change}]}
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(bad)


def test_unlisted_contracts_and_unreadable_files_are_refused(tmp_path: Path) -> None:
    model = SimServer(SimConfig(seed=7), port=0, clock=SimClock(START)).model
    nowhere = {
        **SCENARIO["opportunities"][0],
        "legs": [_leg("2026-11-20", 577.5, "C", "sell"), _leg("2026-11-20", 577.5, "P", "buy")],
    }
    with pytest.raises(ScenarioError, match="is not listed"):
        Planter(model, parse_scenario({**SCENARIO, "opportunities": [nowhere]}), START)
    broken = tmp_path / "broken.yaml"
    broken.write_text("opportunities: [unclosed")
    with pytest.raises(ScenarioError, match="not valid"):
        load_scenario(broken)
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "missing.yaml")
    option = model.option("SPY", date(2026, 11, 20), 577.0, "C")
    assert isinstance(option, OptionSpec)
