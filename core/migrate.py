"""Schema management through Alembic: upgrade to head, current revision, model/migration drift."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from core.db import get_engine
from core.errors import SecureSphereError
from core.models import Base

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(url: str) -> None:
    """Create or upgrade the schema to the newest migration."""
    with get_engine(url).begin() as connection:
        command.upgrade(_config(connection), "head")


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration shipped with this code (read once per process)."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise SecureSphereError(f"no migrations found in {MIGRATIONS}")
    return head


def current_revision(url: str) -> str | None:
    """The migration the database is at, or None for an empty database."""
    with get_engine(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def drift(url: str) -> list[object]:
    """Differences between the models and the migrated database (empty when they agree)."""
    with get_engine(url).connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        # Alembic's diff entries are tuples (or lists of them) of differing shapes.
        diffs: list[object] = compare_metadata(context, Base.metadata)
        return diffs


def make_revision(url: str, message: str) -> None:
    """Developer helper: autogenerate a new migration against an up-to-date database."""
    with get_engine(url).begin() as connection:
        command.revision(_config(connection), message=message, autogenerate=True)
