"""``history_pacing_ledger``: IB's history pacing windows per gateway, shared by loader processes.

IB's pacing limits hold per gateway (host and port) across every connection and process; loaders
in one process share one scheduler, loaders in different processes admit their requests through
this table (under an advisory lock per gateway).

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "history_pacing_ledger",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("gateway", sa.String(length=128), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("contract", sa.String(length=64), nullable=False),
        sa.Column("exchange", sa.String(length=32), nullable=False),
        sa.Column("what_to_show", sa.String(length=32), nullable=False),
        sa.Column("bar_size", sa.String(length=16), nullable=False),
        sa.Column("duration", sa.String(length=16), nullable=False),
        sa.Column("end_time", sa.String(length=32), nullable=False),
        sa.Column("use_rth", sa.Boolean(), nullable=False),
        sa.Column(
            "admitted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history_pacing_ledger")),
    )
    op.create_index(
        op.f("ix_history_pacing_ledger_gateway"),
        "history_pacing_ledger",
        ["gateway", "admitted_at"],
        unique=False,
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_history_pacing_ledger_gateway"), table_name="history_pacing_ledger")
    op.drop_table("history_pacing_ledger")
