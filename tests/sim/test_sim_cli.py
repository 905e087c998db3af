"""``python -m alc_data.ib.sim serve`` and the ``sim`` command group."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from ib_async import IB

from alc_data.ib.sim import MarketModel
from alc_data.ib.sim.cli import register, serve

pytestmark = pytest.mark.timeout(30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_register_adds_sim_serve() -> None:
    parser = argparse.ArgumentParser(prog="alc-data")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["sim", "serve", "--port", "7000", "--seed", "3", "--lines", "5", "--calendar"]
    )
    assert (args.port, args.seed, args.lines, args.calendar, args.host) == (
        7000,
        3,
        5,
        True,
        "127.0.0.1",
    )
    assert args.handler is serve


async def test_module_serves_until_ctrl_c() -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "alc_data.ib.sim",
        "serve",
        "--port",
        str(port),
        "--seed",
        "5",
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stderr is not None
    try:
        line = await asyncio.wait_for(proc.stderr.readline(), 10)
        assert b"IB simulator ready on 127.0.0.1:%d" % port in line
        for part in (
            b"server versions 157-178",
            b"SPY, QQQ, AAPL, IWM, SPX",
            b"live data at any hour",
        ):
            assert part in line
        ib = IB()
        await ib.connectAsync("127.0.0.1", port, clientId=9)
        assert ib.isConnected()
        ib.disconnect()
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
        rest = await proc.stderr.read()
        assert b"Traceback" not in rest and b"stopped" in rest
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_module_stops_cleanly_on_sigterm() -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "alc_data.ib.sim",
        "--port",
        str(port),
        "--calendar",
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stderr is not None
    try:
        line = await asyncio.wait_for(proc.stderr.readline(), 10)
        assert b"NYSE calendar" in line
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), 10) == 0
        assert b"stopped" in await proc.stderr.read()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def serve_args(**overrides: object) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="alc-data")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sim", "serve"])
    for key, value in overrides.items():
        setattr(args, key, value)
    return args


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"port": 70000}, "--port must be between 1 and 65535, got 70000"),
        ({"port": 0}, "--port must be between 1 and 65535, got 0"),
        ({"update_interval": 0.0}, "--update-interval must be at least 0.01 s"),
        ({"update_interval": float("nan")}, "--update-interval must be at least 0.01 s"),
        ({"lines": 0}, "--lines must be at least 1"),
    ],
)
def test_bad_arguments_get_one_line_and_exit_2(
    overrides: dict[str, object], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert serve(serve_args(**overrides)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_update_interval_below_10_ms_is_refused_by_the_config() -> None:
    from alc_data.ib.sim import SimConfig

    with pytest.raises(ValueError, match="at least 10 ms"):
        SimConfig(update_interval=0.0)
    assert SimConfig(update_interval=0.01).update_interval == 0.01  # the limit itself is fine


def _live_scenario(path: Path) -> Path:
    """A scenario on today's listings (the served clock is real time)."""
    model = MarketModel(5)
    expiry = model.expirations("SPY")[3]
    spot = model.path("SPY").price(datetime.now(UTC).timestamp())
    strike = min(model.strikes("SPY", expiry), key=lambda k: abs(k - spot))
    legs = [
        {"expiry": expiry.isoformat(), "strike": strike, "right": "C", "side": "sell"},
        {"expiry": expiry.isoformat(), "strike": strike, "right": "P", "side": "buy"},
    ]
    entry: dict[str, object] = {"id": "live", "kind": "conversion", "symbol": "SPY", "legs": legs}
    entry |= {"start": "+30s", "duration_s": 60, "edge": 0.5}
    path.write_text(json.dumps({"fees": {"per_contract": 0.65}, "opportunities": [entry]}))
    return path


async def test_serve_prints_the_scenario_it_plants(tmp_path: Path) -> None:
    port = free_port()
    scenario = _live_scenario(tmp_path / "live.json")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "alc_data.ib.sim",
        "serve",
        "--port",
        str(port),
        "--seed",
        "5",
        "--scenario",
        str(scenario),
        "--implied",
        "list",
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stderr is not None
    try:
        line = await asyncio.wait_for(proc.stderr.readline(), 60)
        assert b"IB simulator ready on 127.0.0.1:%d" % port in line
        assert b"scenario: %s: 1 planted" % str(scenario).encode() in line
        assert b"live conversion" in line and b"edge 0.50" in line
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def test_a_bad_scenario_stops_serve_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("opportunities:\n  - {id: x, kind: straddle}\n")
    assert serve(serve_args(scenario=str(bad))) == 2
    assert "kind must be one of conversion, reversal, box, calendar" in capsys.readouterr().err
    assert serve(serve_args(scenario=str(tmp_path / "missing.yaml"))) == 2
    assert "cannot read scenario" in capsys.readouterr().err
