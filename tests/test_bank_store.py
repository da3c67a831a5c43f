"""Question banks in the database: round trip, idempotent import, versions, bad files."""

import dataclasses

import pytest
from sqlalchemy import func, select

from core import db
from core.access import SYSTEM
from core.banks.store import import_bank, list_questionnaires, load_bank
from core.banks.yaml_io import load_bank_file, load_bank_text, shipped_bank_paths
from core.errors import ValidationError
from core.models import Question, Questionnaire
from tests.factories import baseline_id


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
