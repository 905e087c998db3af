"""Vendor imports: instrument aliases and per-file import progress.

``instrument_aliases`` keeps a vendor's own identifiers of a contract or an underlying (a
Databento ``instrument_id``, which OPRA reuses from day to day, so an alias is valid from a
date; a Massive ticker; a Cboe root) next to the row it names; contracts themselves are matched
by their natural key, so an IB-collected contract and a vendor's are one ``option_chains`` row.

``import_files`` is the importers' progress, one row per source, format and file (a file is
known by its size and a SHA-256 of its content): ``running`` while it is imported, ``done``
with its summary when every row is written. A file found ``done`` is skipped; a ``running``
one (a crash) is read again from its start, which the idempotent writes make safe.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "instrument_aliases",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("source_id", sa.SmallInteger(), nullable=False),
        sa.Column("instrument_kind", sa.String(length=8), nullable=False),
        sa.Column("instrument_id", sa.BigInteger(), nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "instrument_kind IN ('option', 'stock')",
            name=op.f("ck_instrument_aliases_instrument_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["data_sources.id"],
            name=op.f("fk_instrument_aliases_source_id_data_sources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instrument_aliases")),
        sa.UniqueConstraint(
            "source_id",
            "alias",
            "valid_from",
            "instrument_kind",
            name=op.f("uq_instrument_aliases_source_id"),
        ),
    )
    op.create_table(
        "import_files",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("source_id", sa.SmallInteger(), nullable=False),
        sa.Column("format", sa.String(length=32), nullable=False),
        sa.Column("fingerprint", sa.String(length=80), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rows_read", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("rows_written", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("duplicates", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column(
            "rejected",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('running', 'done')", name=op.f("ck_import_files_status")),
        sa.ForeignKeyConstraint(
            ["source_id"], ["data_sources.id"], name=op.f("fk_import_files_source_id_data_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_files")),
        sa.UniqueConstraint(
            "source_id", "format", "fingerprint", name=op.f("uq_import_files_source_id")
        ),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("import_files")
    op.drop_table("instrument_aliases")
