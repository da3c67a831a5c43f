"""Question banks in the database: round trip, idempotent import, versions, bad files."""

import dataclasses

import pytest
from sqlalchemy import func, select

from core import db
from core.access import SYSTEM
from core.banks.frameworks import load_bank_source
from core.banks.store import import_bank, list_questionnaires, load_bank, plan_import, store_plan
from core.banks.yaml_io import load_bank_file, load_bank_text, shipped_bank_paths
from core.errors import ValidationError
from core.models import Question, Questionnaire
from tests.factories import baseline_id
from tests.oscal_data import FULL, oscal_bytes


def _counts(url):
    with db.reading(url) as s:
        return (
            s.scalar(select(func.count()).select_from(Questionnaire)),
            s.scalar(select(func.count()).select_from(Question)),
        )


def test_stored_bank_loads_back_equal_to_the_file(db_url):
    shipped = load_bank_file(next(p for p in shipped_bank_paths() if "baseline" in p.name))
    with db.reading(db_url) as s:
        assert load_bank(s, baseline_id(db_url)) == shipped


def test_identical_reimport_changes_nothing(db_url):
    before = _counts(db_url)
    with db.transaction(db_url) as s:
        for path in shipped_bank_paths():
            assert import_bank(s, SYSTEM, load_bank_file(path))[1] is False
    assert _counts(db_url) == before


def test_edited_bank_needs_a_new_version_and_then_lives_beside_the_old(db_url):
    bank = load_bank_file(next(p for p in shipped_bank_paths() if "baseline" in p.name))
    edited = dataclasses.replace(bank, title="Edited title")
    before = _counts(db_url)
    with pytest.raises(ValidationError, match="as a new version"), db.transaction(db_url) as s:
        import_bank(s, SYSTEM, edited)
    assert _counts(db_url) == before
    with db.transaction(db_url) as s:
        import_bank(s, SYSTEM, dataclasses.replace(edited, version=2))
    with db.reading(db_url) as s:
        versions = [q["version"] for q in list_questionnaires(s) if q["key"] == bank.key]
    assert versions == [2, 1]


def test_malformed_bank_file_is_refused_with_its_location_and_nothing_is_written(db_url, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(
        "key: broken\nversion: 1\ntitle: Broken\nsections:\n  - key: s1\n    title: [unclosed\n"
    )
    before = _counts(db_url)
    with pytest.raises(ValidationError, match=r"broken.yaml: line 7, column 1: invalid YAML"):
        load_bank_file(path)
    with pytest.raises(ValidationError, match="unknown question type"):
        load_bank_text(
            "key: bad-type\nversion: 1\ntitle: T\nsections:\n- key: s1\n  title: S\n"
            "  questions:\n  - key: q1\n    text: Q?\n    type: essay\n",
            source_name="x.yaml",
        )
    assert _counts(db_url) == before


def test_a_plan_says_new_bank_new_version_unchanged_or_refused_before_writing(db_url):
    bank = load_bank_file(next(p for p in shipped_bank_paths() if "baseline" in p.name))
    edited = dataclasses.replace(bank, title="Edited title")
    with db.reading(db_url) as s:
        plans = {
            "same": plan_import(s, bank),
            "edited, fixed version": plan_import(s, edited),
            "edited, next version": plan_import(s, edited, version_fixed=False),
            "new key": plan_import(s, dataclasses.replace(bank, key="another-bank")),
        }
    assert {k: (p.action, p.bank.version) for k, p in plans.items()} == {
        "same": ("unchanged", 1),
        "edited, fixed version": ("refused", 1),
        "edited, next version": ("new version", 2),
        "new key": ("new bank", 1),
    }
    assert plans["edited, next version"].detail == (
        f"new version 2 of bank {bank.key!r} (stored: v1)"
    )
    before = _counts(db_url)
    with pytest.raises(ValidationError, match="as a new version"), db.transaction(db_url) as s:
        store_plan(s, SYSTEM, plans["edited, fixed version"])
    assert _counts(db_url) == before
    with db.transaction(db_url) as s:
        assert import_bank(s, SYSTEM, edited, version_fixed=False)[1] is True
    with db.reading(db_url) as s:  # each content is found under its own version
        assert plan_import(s, edited, version_fixed=False).detail == (
            f"already present, unchanged (bank {bank.key!r} version 2)"
        )
        assert plan_import(s, bank, version_fixed=False).bank.version == 1


def test_the_full_sp_800_53_catalog_stores_and_loads_back_equal(db_url):
    bank = load_bank_source(FULL, oscal_bytes(FULL))
    with db.transaction(db_url) as s:
        questionnaire, created = import_bank(s, SYSTEM, bank, version_fixed=False)
        questionnaire_id = questionnaire.id
    with db.reading(db_url) as s:
        assert created and load_bank(s, questionnaire_id) == bank
        assert plan_import(s, bank, version_fixed=False).action == "unchanged"
