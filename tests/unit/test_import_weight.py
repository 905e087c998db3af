"""Importing a leaf loads only what it needs: the public facade is lazy."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = (
    "import json, sys, {module}; "
    "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
    "('alc_data', 'ib_async', 'eventkit', 'numpy'))))"
)


def _loaded(module: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return set(json.loads(out))


@pytest.mark.parametrize(
    ("module", "allowed"),
    [
        ("alc_data.errors", {"alc_data", "alc_data.errors"}),
        ("alc_data.config", {"alc_data", "alc_data.config", "alc_data.errors"}),
        ("alc_data", {"alc_data"}),
    ],
)
def test_a_leaf_import_loads_a_handful_of_modules(module: str, allowed: set[str]) -> None:
    assert _loaded(module) <= allowed


def test_a_public_name_still_resolves_on_first_use() -> None:
    loaded = _loaded("alc_data; alc_data.TickWriter")
    assert "alc_data.repositories.writers" in loaded  # positive control: resolved on use
    assert not {m for m in loaded if m.startswith(("ib_async", "alc_data.collector"))}
