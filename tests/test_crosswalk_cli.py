"""import-mapping and prefill on the command line, against a database `init --demo` built: the
demo's Cloud Platform holds an approved CSF 2.0 assessment and an empty SP 800-53 LOW one."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from core import db
from core.models import AnswerProposal, Assessment, MappingSet, Product, Questionnaire
from tests.clirun import run

MAPPINGS = Path(__file__).parent / "data" / "mappings"
DEGENARO = MAPPINGS / "OSCAL-1.2.1_mapping-collection_CSF-2.0_to_SP800-53r5_degenaro.json"
BSI = MAPPINGS / "OSCAL-1.2.2_mapping-collection_ISO27001-2022-AnnexA_to_GSpp_BSI.json"


def _cloud_platform(url: str) -> dict[str, int]:
    with db.reading(url) as s:
        rows = s.execute(
            select(Questionnaire.key, Assessment.id)
            .join(Assessment, Assessment.questionnaire_id == Questionnaire.id)
            .join(Product, Product.id == Assessment.product_id)
            .where(Product.name == "Cloud Platform")
        ).all()
    return dict(rows)


def test_demo_prefill_through_the_shipped_crosswalk(cli_db, capsys):
    assert run(capsys, "init", "--demo")[0] == 0
    ids = _cloud_platform(cli_db)
    target, source = ids["nist-800-53-r5-low"], ids["nist-csf-2.0"]
    code, out, _ = run(capsys, "prefill", str(target), "--from", str(source), "--dry-run", "--json")
    assert code == 0
    counts = json.loads(out)
    assert set(counts) >= {"carried", "proposed", "uncovered", "unresolved"}
    # the NIST crosswalk only intersects: everything it reaches is proposed
    assert counts["carried"] == 0 and counts["proposed"] > 50
    assert counts["proposed"] + counts["uncovered"] + counts["kept"] == 149
    assert "PM-09" in counts["unresolved"]
    with db.reading(cli_db) as s:
        assert s.scalar(select(func.count()).select_from(AnswerProposal)) == 0  # dry run
    code, out, _ = run(capsys, "prefill", str(target), "--from", str(source))
    assert code == 0 and f"proposed {counts['proposed']} (to confirm)" in out
    with db.reading(cli_db) as s:
        assert s.scalar(select(func.count()).select_from(AnswerProposal)) == counts["proposed"]


def test_import_mapping_dry_run_then_import_then_unchanged(cli_db, capsys):
    assert run(capsys, "init")[0] == 0
    code, out, _ = run(capsys, "import-mapping", str(DEGENARO), "--dry-run")
    assert code == 0
    assert "NIST Cybersecurity Framework 2.0 v2 -> NIST SP 800-53 Rev. 5 LOW Baseline v2" in out
    assert "superset-of" in out and "target ids not in the target bank" in out
    assert "dry run: nothing written" in out
    with db.reading(cli_db) as s:
        assert s.scalar(select(func.count()).select_from(MappingSet)) == 1  # the shipped one
    code, out, _ = run(capsys, "import-mapping", str(DEGENARO), "--key", "csf-degenaro")
    assert code == 0 and "imported: new mapping 'csf-degenaro', version 1" in out
    code, out, _ = run(capsys, "import-mapping", str(DEGENARO), "--key", "csf-degenaro")
    assert code == 0 and "unchanged" in out
    with db.reading(cli_db) as s:
        assert s.scalar(select(func.count()).select_from(MappingSet)) == 2


def test_bad_mapping_files_are_refused_with_one_line(cli_db, capsys, tmp_path):
    assert run(capsys, "init")[0] == 0
    # BSI's ISO 27001 -> Grundschutz++ mapping: neither bank is stored here
    code, _, err = run(capsys, "import-mapping", str(BSI))
    assert code == 1 and "none of its ids match" in err
    broken = tmp_path / "broken.json"
    broken.write_text('{"mapping-collection": {"uuid": ')
    code, _, err = run(capsys, "import-mapping", str(broken))
    assert code == 1 and "broken.json" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "import-mapping", str(DEGENARO), "--source-bank", "nope")
    assert code == 1 and "no source bank 'nope'" in err
    code, _, err = run(capsys, "prefill", "99999", "--from", "1")
    assert code == 1 and err.strip()
    with db.reading(cli_db) as s:
        assert s.scalar(select(func.count()).select_from(MappingSet)) == 1
