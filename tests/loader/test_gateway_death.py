"""The gateway dies mid-load: one line, exit 3, a resume hint; the rerun finishes the job.

Both the simulator and the loader are real ``alc-data`` processes; the simulator is killed
(SIGKILL) once the loader has recorded its first request.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

pytestmark = pytest.mark.timeout(180)

_MAIN = "import sys; from alc_data.cli import main; sys.exit(main())"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _spawn(url: URL, *argv: str, quiet: bool = False) -> asyncio.subprocess.Process:
    env = {"ALC_DATABASE_URL": url.render_as_string(hide_password=False), "HOME": "/tmp",
           "PATH": os.environ.get("PATH", "/usr/bin")}  # fmt: skip
    out = asyncio.subprocess.DEVNULL if quiet else asyncio.subprocess.PIPE
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", _MAIN, *argv, env=env, stdout=out, stderr=out
    )


async def _serve(url: URL, port: int) -> asyncio.subprocess.Process:
    sim = await _spawn(url, "sim", "serve", "--port", str(port), quiet=True)
    while True:  # ready when it accepts connections
        assert sim.returncode is None, "the simulator exited before it was ready"
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        await writer.wait_closed()
        return sim


async def _recorded(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM history_requests"))).scalar_one())


async def test_gateway_killed_mid_load(clean_db: AsyncEngine, migrated_url: URL) -> None:
    port = _free_port()
    today = date.today()
    load = ["load-history", "SPY", "--start", str(today - timedelta(days=14)), "--end",
            str(today - timedelta(days=1)), "--ib", f"127.0.0.1:{port}", "--max-contracts",
            "20", "--json"]  # fmt: skip
    sim = await _serve(migrated_url, port)
    try:
        loader = await _spawn(migrated_url, *load)
        while await _recorded(clean_db) == 0:  # a first request answered and recorded
            assert loader.returncode is None
            await asyncio.sleep(0.05)
        sim.send_signal(signal.SIGKILL)
        out, err = await loader.communicate()
    finally:
        if sim.returncode is None:
            sim.kill()
        await sim.wait()
    lines = err.decode().splitlines()
    assert loader.returncode == 3, err.decode()
    assert not any("Traceback" in line for line in lines)
    # Apart from the estimate, the progress lines and warnings logged once: one line.
    told = [
        line for line in lines if not line.startswith(("SPY [", "SPY: ")) and "WARNING" not in line
    ]
    assert len(told) == 1, lines
    assert f"IB gateway localhost:{port} went away mid-load" in told[0]
    assert "Run the same load again to resume" in told[0]
    first = json.loads(out.decode().strip().splitlines()[-1])
    done_before = await _recorded(clean_db)
    assert done_before > 0 and first["history_requests"] > 0

    sim = await _serve(migrated_url, port)  # the gateway is back: the same command resumes
    try:
        loader = await _spawn(migrated_url, *load)
        out, err = await loader.communicate()
    finally:
        sim.kill()
        await sim.wait()
    assert loader.returncode == 0, err.decode()
    second = json.loads(out.decode().strip().splitlines()[-1])
    assert second["errors"] == 0 and second["skipped_complete"] > 0
    assert await _recorded(clean_db) > done_before
