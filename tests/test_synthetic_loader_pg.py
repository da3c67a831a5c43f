"""The synthetic set's PostgreSQL bulk load (binary COPY, keys and indexes set aside while it
runs): the same rows as the SQLite seed, the schema as the migrations left it, usable sequences."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from core import db, migrate
from core.access import SYSTEM
from core.models import (
    Assessment,
    LeadComment,
    Organization,
    Product,
    ProductStatus,
    QuestionnaireResponse,
    ScoreHistory,
    SignInAttempt,
    User,
)
from core.organizations import create_organization
from core.synthetic import seed_synthetic
from core.synthetic_loader import Loader
from core.users import create_user

pytestmark = pytest.mark.postgres

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SEED = {"products": 30, "seed": 3, "now": NOW}
_names = itertools.count()
# Every constraint and index of the public tables, as PostgreSQL would re-create them.
SCHEMA = text(
    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
    " WHERE connamespace = 'public'::regnamespace"
    " UNION ALL SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
)
SEEDED = (
    Assessment,
    QuestionnaireResponse,
    ScoreHistory,
    ProductStatus,
    LeadComment,
    SignInAttempt,
)


@pytest.fixture
def pg_url(pg_cluster):
    """An empty PostgreSQL database of its own (seed_synthetic migrates it)."""
    name = f"synload{next(_names)}"
    url = pg_cluster.create_database(name)
    yield url
    db.dispose_all()
    pg_cluster.drop_database(name)


def _counts(url: str, report_counts: dict[str, int]) -> dict[str, int]:
    with db.reading(url) as s:
        return {t: s.scalar(text(f"SELECT count(*) FROM {t}")) for t in report_counts}


def _rows(url: str, model) -> list[tuple]:
    """Every row of a seeded table (its id aside), values as the ORM reads them back."""
    columns = [c for c in model.__table__.columns if c.name != "id"]
    with db.reading(url) as s:
        rows = s.execute(select(*columns).order_by(model.__table__.c.id)).all()
    return [tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows]


def test_copy_load_matches_the_sqlite_seed_and_leaves_the_schema_whole(
    pg_url, tmp_path, monkeypatch
):
    sqlite_url = f"sqlite:///{tmp_path / 'seed.db'}"  # empty, like pg_url: the same ids
    copied: list[str] = []
    real_copy = Loader._copy

    def spy(self, name, *args):
        copied.append(name)
        return real_copy(self, name, *args)

    monkeypatch.setattr(Loader, "_copy", spy)
    migrate.upgrade(pg_url)
    with db.transaction(pg_url) as s:  # a partial index: its % must survive being put back
        s.connection().exec_driver_sql(
            "CREATE INDEX ix_products_numbered ON products (name) WHERE name LIKE 'Product %%'"
        )
    with db.reading(pg_url) as s:
        schema_before = sorted(map(tuple, s.execute(SCHEMA)))

    on_pg = seed_synthetic(pg_url, **SEED)
    assert {m.__tablename__ for m in (Organization, User, Product, *SEEDED)} <= set(copied)
    copied.clear()
    on_sqlite = seed_synthetic(sqlite_url, **SEED)
    assert copied == []  # SQLite keeps its executemany path

    assert on_pg.counts == on_sqlite.counts
    assert on_pg.counts["questionnaire_responses"] == 30 * 100
    assert _counts(pg_url, on_pg.counts) == _counts(sqlite_url, on_sqlite.counts) == on_pg.counts
    # JSON values and NULLs, booleans, UTC times: the same rows, read back through the models
    for model in SEEDED:
        assert _rows(pg_url, model) == _rows(sqlite_url, model), model.__tablename__
    with db.reading(pg_url) as s:
        # the JSON text stored as is (not encoded twice), NULL for the answers not applicable
        stored = s.scalars(text("SELECT DISTINCT value::text FROM questionnaire_responses"))
        assert set(stored) == {'"yes"', '"partial"', '"no"', None}
        # the foreign keys and indexes set aside during COPY are back, exactly as they were
        assert sorted(map(tuple, s.execute(SCHEMA))) == schema_before
        assert (
            "WHERE ((name)::text ~~ 'Product %'::text)"
            in dict(s.execute(text("SELECT indexname, indexdef FROM pg_indexes")).all())[
                "ix_products_numbered"
            ]
        )


def test_orm_inserts_after_a_copy_load_get_fresh_ids(pg_url):
    seed_synthetic(pg_url, **SEED)
    with db.transaction(pg_url) as s:
        org = create_organization(s, SYSTEM, name="Made after seeding")
        account = create_user(
            s,
            SYSTEM,
            username="after-seeding",
            name="After seeding",
            role="client",
            organization_id=org.id,
            password="a long enough password 1",
            rounds=4,
        )
        product = Product(organization_id=org.id, name="After seeding")
        s.add(product)
        s.flush()
        product_id = product.id
    with db.reading(pg_url) as s:
        assert org.id == s.scalar(select(func.max(Organization.id))) == 51
        assert account.user.id == s.scalar(select(func.max(User.id)))
        assert product_id == s.scalar(select(func.max(Product.id))) == 31


@pytest.mark.parametrize(
    ("broken", "error"),
    [({"organization_id": 999}, "foreign key"), ({"created_at": None}, "not-null")],
)
def test_a_row_breaking_a_constraint_rolls_the_load_back(pg_url, broken, error):
    migrate.upgrade(pg_url)
    with db.transaction(pg_url) as s:
        org = create_organization(s, SYSTEM, name="Holds the product").id
    with pytest.raises(IntegrityError, match=error), db.transaction(pg_url) as s:
        loader = Loader(s)
        when = loader.ts(NOW)
        row = {"organization_id": org, "name": "Broken", "description": "", "tier": "tier_1"}
        row |= {"industry": "", "is_active": True, "created_at": when, "updated_at": when}
        loader.insert(Product, [row | broken])
    with db.reading(pg_url) as s:
        assert s.scalar(select(func.count(Product.id))) == 0
        assert "fk_products_organization_id_organizations" in set(
            s.scalars(text("SELECT conname FROM pg_constraint WHERE contype = 'f'"))
        )
