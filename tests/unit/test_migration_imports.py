"""Revisions are frozen history: they import only the DDL builders and never read the
environment (what they need comes through Alembic's config: migrate.resolve_revision_options)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

VERSIONS = sorted((Path(__file__).resolve().parents[2] / "alembic" / "versions").glob("*.py"))
#: The modules a revision may import from alc_data: the DDL builders and the backend record.
ALLOWED = {
    "alc_data.config",  # Backend, the enum only (checked below)
    "alc_data.db.backend",
    "alc_data.db.migrate",
    "alc_data.db.partitioning",
    "alc_data.db.rollups",
    "alc_data.db.timescale",
    "alc_data.db.timeseries",
}
FORBIDDEN_NAMES = {"load_settings", "Settings", "environ", "getenv"}


def _imports(tree: ast.Module) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found += [(node.module, a.name) for a in node.names]
        elif isinstance(node, ast.Import):
            found += [(a.name, "") for a in node.names]
    return found


@pytest.mark.parametrize("path", VERSIONS, ids=[p.stem for p in VERSIONS])
def test_a_revision_imports_only_ddl_builders(path: Path) -> None:
    tree = ast.parse(path.read_text())
    imports = _imports(tree)
    assert any(m == "alembic" for m, _ in imports)  # positive control: the walk sees imports
    packages = ("alc_data", "alc_data.db")  # `from alc_data.db import timescale` names a module
    ours = {f"{m}.{n}" if m in packages and n else m for m, n in imports}
    assert {m for m in ours if m.startswith("alc_data")} <= ALLOWED
    assert not [n for m, n in imports if n in FORBIDDEN_NAMES or m == "os"]
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert not names & FORBIDDEN_NAMES
