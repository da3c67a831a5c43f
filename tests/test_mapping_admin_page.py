"""The framework mappings on the Question banks page, through AppTest on the demo database: the
list with what each mapping covers, and the upload that previews a mapping before importing it."""

import json
from pathlib import Path

from sqlalchemy import func, select

from core import db
from core.models import MappingLink, MappingSet, Question, Questionnaire
from core.text import md_escape
from tests.apptest import rerun, signed_in
from tests.support.words import page_problems, plain

DATA = Path(__file__).resolve().parent / "data" / "mappings"
DEGENARO = "OSCAL-1.2.1_mapping-collection_CSF-2.0_to_SP800-53r5_degenaro.json"
SHIPPED_KEY = "nist-csf-2.0-to-800-53-r5"


def _open(url):
    return signed_in(url, "admin").run().switch_page("pages/admin_banks.py").run()


def _mapping_table(at):
    return next(df.value for df in at.dataframe if "mapping" in df.value.columns)


def _upload(at, name, data):
    uploader = next(u for u in at.get("file_uploader") if u.label == "Mapping file")
    uploader.upload(name, data, "application/octet-stream")
    return rerun(at)


def _texts(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [m.value for kind in (at.info, at.success, at.error) for m in kind]
    return plain("\n".join(parts))  # as read: Markdown escapes undone


def _sets(url) -> list[tuple[str, int]]:
    with db.reading(url) as s:
        return list(s.execute(select(MappingSet.key, MappingSet.version).order_by(MappingSet.id)))


def _bank_size(session, key) -> int:
    newest = select(func.max(Questionnaire.id)).where(Questionnaire.key == key).scalar_subquery()
    return session.scalar(
        select(func.count()).select_from(Question).where(Question.questionnaire_id == newest)
    )


def test_the_list_shows_the_shipped_mapping_with_its_coverage(app_env):
    with db.reading(app_env) as s:
        shipped = s.scalar(select(MappingSet).where(MappingSet.key == SHIPPED_KEY))
        reached = s.execute(
            select(MappingLink.relationship, func.count(func.distinct(MappingLink.target_key)))
            .where(MappingLink.mapping_set_id == shipped.id)
            .group_by(MappingLink.relationship)
        ).all()
        covered = s.scalar(
            select(func.count(func.distinct(MappingLink.target_key))).where(
                MappingLink.mapping_set_id == shipped.id
            )
        )
        links = s.scalar(select(func.count()).where(MappingLink.mapping_set_id == shipped.id))
        target_size = _bank_size(s, shipped.target_bank)
    at = _open(app_env)
    assert not at.exception and not at.error
    assert "Framework mappings" in [h.value for h in at.subheader]
    assert not page_problems(at, user_data=set())
    row = _mapping_table(at).set_index("mapping").loc[shipped.title]
    assert (row["from"], row["to"]) == (
        "NIST Cybersecurity Framework 2.0",
        "NIST SP 800-53 Rev. 5 LOW Baseline",
    )
    assert row["version"] == 1 and row["links"] == links
    assert row["licence"] == "Public domain (US government work)"
    assert row["covered"] == f"{covered} of {target_size}"
    assert reached == [("intersects-with", covered)]  # NIST's workbook gives no relationship
    assert row["by_relationship"] == f"Intersects with: {covered}"
    chart = next(
        json.loads(c.proto.spec)
        for c in at.get("plotly_chart")
        if "by relationship" in json.loads(c.proto.spec)["layout"]["title"]["text"]
    )
    assert [(t["name"], t["x"]) for t in chart["data"]] == [("Intersects with", [covered])]
    # What did not resolve, in words: NIST's workbook names whole families and withdrawn controls.
    expander = next(e for e in at.expander if md_escape(shipped.title) in e.label)
    said = plain(" ".join(m.value for m in expander.markdown))
    report = shipped.report
    assert f"{len(report['unresolved_targets'])} target ids match no question" in said
    assert "withdrawn" in said and "whole family" in said
    assert shipped.title == "NIST CSF 2.0 to SP 800-53 Rev. 5 (OLIR-186 concept crosswalk)"


def test_an_upload_is_previewed_imported_and_then_unchanged(app_env):
    data = (DATA / DEGENARO).read_bytes()
    before = _sets(app_env)
    at = _upload(_open(app_env), DEGENARO, data)
    assert not at.exception and not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Pairs in the file"] == "737" and metrics["Links to store"] == "480"
    unresolved = int(metrics["Ids matching no question"])
    assert unresolved > 0
    text = _texts(at)
    assert "NIST SP 800-53 Rev. 5 LOW Baseline" in text and "Superset of: 480" in text
    assert "source-gap-summary lists 79 source ids" in text  # the reader's note
    assert "Importing stores it as a new mapping" in text
    problems = next(e for e in at.expander if plain(e.label).startswith("Ids that did not match ("))
    said = plain(" ".join(m.value for m in problems.markdown))
    assert f"{unresolved} target ids match no question" in said and "pm-16" in said
    assert _sets(app_env) == before  # the preview writes nothing
    # the words a person reads: no key, None or JSON (the title is the file's own)
    assert not page_problems(at, user_data={"NIST_CSF_v2.0 to NIST_SP-800-53_rev5"})

    next(b for b in at.button if b.label == "Import mapping").click()
    rerun(at)
    assert not at.exception and not at.error
    key = "nist-csf-2.0-to-nist-800-53-r5-low"
    assert _sets(app_env) == [*before, (key, 1)]
    with db.reading(app_env) as s:
        stored = s.scalar(select(MappingSet).where(MappingSet.key == key))
        assert s.scalar(select(func.count()).where(MappingLink.mapping_set_id == stored.id)) == 480
    assert any("Mapping imported" in m.value for m in at.success)
    assert stored.title in set(_mapping_table(at)["mapping"])  # the list follows at once

    again = _upload(_open(app_env), DEGENARO, data)  # a new session uploads it again
    assert not again.exception and not again.error
    assert any("already stored, unchanged" in m.value for m in again.info)
    assert not [b for b in again.button if b.label == "Import mapping"]
    assert _sets(app_env) == [*before, (key, 1)]


def test_a_broken_file_shows_the_error_and_stores_nothing(app_env):
    before = _sets(app_env)
    at = _upload(_open(app_env), "broken.json", b'{"mapping-collection": {"uuid": ')
    assert not at.exception
    assert len(at.error) == 1 and "broken.json: not valid JSON" in plain(at.error[0].value)
    assert not [b for b in at.button if b.label == "Import mapping"]
    assert not [m for m in at.metric if m.label == "Links to store"]
    unmatched = "source_id,target_id,relationship\nno-such-id,nor-this,equal-to\n"
    at = _upload(_open(app_env), "nothing.csv", unmatched.encode())
    assert len(at.error) == 1 and "none of its ids match" in plain(at.error[0].value)
    at = _open(app_env)
    for label in ("Source bank", "Target bank"):
        next(b for b in at.selectbox if b.label == label).set_value("nist-csf-2.0")
    at = _upload(at, DEGENARO, (DATA / DEGENARO).read_bytes())
    assert [plain(e.value) for e in at.error] == [
        "Choose two different banks: a mapping goes from one bank to another."
    ]
    assert _sets(app_env) == before
