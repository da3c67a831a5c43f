"""ASVS CSVs of earlier releases (4.0.3: a tick per level column) import with --level."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.banks.frameworks import load_bank_source
from core.errors import ValidationError
from tests.clirun import run

ASVS_403 = Path(__file__).parent / "data" / "sheets" / "OWASP_ASVS_4.0.3_en_excerpt.csv"


@pytest.mark.parametrize(
    ("level", "count", "first"), [(1, 5, "v2.1.1"), (2, 10, "v1.1.1"), (3, 11, "v1.1.1")]
)
def test_asvs_4_0_3_takes_the_lowest_ticked_level(level, count, first):
    bank = load_bank_source(ASVS_403, ASVS_403.read_bytes(), level=level)
    assert len(bank.questions) == count and bank.questions[0].key == first
    assert ("v1.11.3" in {q.key for q in bank.questions}) == (level == 3)


def test_deleted_requirements_of_asvs_4_0_3_tick_no_level_and_are_left_out():
    bank = load_bank_source(ASVS_403, ASVS_403.read_bytes(), level=3)
    keys = {q.key for q in bank.questions}
    assert not keys & {"v1.4.2", "v1.4.3", "v1.12.1"}
    assert [s.title for s in bank.sections] == [
        "V1 Architecture, Design and Threat Modeling",
        "V2 Authentication",
    ]


def test_an_asvs_csv_with_neither_l_nor_level_columns_names_what_is_missing():
    text = ASVS_403.read_text(encoding="utf-8").replace("level1,level2,level3", "a,b,c")
    with pytest.raises(ValidationError, match=r"missing CSV column.*: L"):
        load_bank_source("asvs.csv", text.encode(), level=1)


def test_import_bank_reads_the_asvs_4_0_3_csv_at_level_2(capsys, cli_db):
    assert run(capsys, "init")[0] == 0
    code, out, err = run(capsys, "import-bank", str(ASVS_403), "--format", "asvs", "--level", "2")
    assert code == 0, err
    assert "10 questions in 2 sections" in out and "imported" in out
