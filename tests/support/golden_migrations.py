"""Capturing the SQL each revision executes, and comparing it with the golden files.

The migration history is frozen: what each revision emits on a fresh database is fixed in
``tests/golden/migrations/<backend>/<revision>.<up|down>.sql``, so a change to a library
builder that an old revision calls can never silently change what that revision does.
Regenerate the files deliberately (a new revision) with ``ALC_UPDATE_GOLDEN=1 pytest ...``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL

from alc_data.db import migrate
from alc_data.db.migrate import StatementLog

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "migrations"
UPDATE = os.environ.get("ALC_UPDATE_GOLDEN") == "1"
_SEPARATOR = "\n-- next statement\n"


def revisions() -> list[str]:
    """Every revision, oldest first."""
    script = ScriptDirectory.from_config(migrate.alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def run_step(url: URL | str, verb: str, target: str, log: StatementLog, **attributes: Any) -> None:
    """``alembic upgrade|downgrade target`` with every statement recorded in ``log``."""
    cfg = migrate.alembic_config(url)
    cfg.attributes.update({"statement_log": log, "drop_data": True, **attributes})
    getattr(command, verb)(cfg, target)


def normalized(statement: str) -> str:
    """A statement with its trailing whitespace trimmed per line (layout stays visible)."""
    return "\n".join(line.rstrip() for line in statement.strip().splitlines())


def compare(backend: str, steps: list[tuple[str, str, list[str]]]) -> list[str]:
    """The steps whose statements differ from their golden file (written when updating)."""
    differing = []
    for revision, direction, statements in steps:
        path = GOLDEN / backend / f"{revision}.{direction}.sql"
        text = _SEPARATOR.join(normalized(s) for s in statements) + "\n"
        if UPDATE:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            continue
        if not path.exists() or path.read_text() != text:
            differing.append(f"{backend}/{path.name}")
    return differing


def statement_count(text: str) -> int:
    """How many statements a golden file holds."""
    return len(re.findall(re.escape(_SEPARATOR.strip()), text)) + 1
