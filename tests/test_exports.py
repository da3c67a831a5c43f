"""Extracts: exact CSV bytes, XLSX escaping, role scoping and the data dictionary."""

import csv
import io
import re
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from core import assessments, comments, db, review
from core.access import SYSTEM
from core.assurance import LEVEL_LABELS, LEVELS, answer_levels
from core.audit_trail import AuditEntry
from core.auth import actor_for
from core.banks.store import load_bank
from core.demo_content import sample_pdf
from core.evidence import add_evidence
from core.exports import audit_csv, csv_bytes
from core.extract_columns import DICTIONARY_COLUMNS, EXTRACTS, TIME
from core.extract_workbook import workbook_xlsx
from core.extracts import data_dictionary, dictionary_csv, extract_count, extract_csv, extract_rows
from core.filters import Filters
from core.labels import iso_utc
from core.models import Assessment, LeadComment, Organization, QuestionnaireResponse, ScoreHistory
from core.organizations import create_organization
from core.products import create_product
from core.settings import update_setting
from tests.factories import World, baseline_id, make_actor

CRLF = "\r\n"


def test_csv_bytes_golden_every_prefix_quotes_newlines_and_non_ascii():
    rows = [
        {"a": v, "b": i}
        for i, v in enumerate(
            [
                "=1+1",
                "+1",
                "-1",
                "@x",
                "\tx",
                "\rx",
                "\0x",
                'say "hi"\r\nnext',
                "naïve — ü",
                None,
                ["x", "y"],
                -5,
                "plain, comma",
                "a\nb",
            ]
        )
    ]
    expected = (
        CRLF.join(
            [
                "a,b",
                "'=1+1,0",
                "'+1,1",
                "'-1,2",
                "'@x,3",
                "'\tx,4",
                '"\'\rx",5',
                "'\0x,6",
                '"say ""hi""\r\nnext",7',
                "naïve — ü,8",
                ",9",
                '"[""x"", ""y""]",10',
                "'-5,11",
                '"plain, comma",12',
                '"a\nb",13',
            ]
        )
        + CRLF
    )
    assert csv_bytes(rows, ["a", "b"]) == expected.encode("utf-8")


T = [datetime(2026, 3, 1, 9, minute, tzinfo=UTC) for minute in range(8)]


@pytest.fixture
def crafted(db_url):
    """One assessment whose names and comments hold every awkward character."""
    with db.transaction(db_url) as s:
        org = create_organization(s, SYSTEM, name='+Ünïcode "Org", Ltd', industry="Retail").id
    client = make_actor(db_url, "client", org, "client1")
    reviewer = make_actor(db_url, "lead_reviewer", None, "reviewer1")
    with db.transaction(db_url) as s:
        pid = create_product(s, client, organization_id=org, name='-Widget, "v2"').id
        aid = assessments.start_assessment(
            s, client, product_id=pid, questionnaire_id=baseline_id(db_url), now=T[0]
        ).id
        for i, (who, body, visibility) in enumerate(
            [
                (client, "=1+1", "shared"),
                (reviewer, 'He said "ok"\r\nthen left', "shared"),
                (reviewer, "internal note", "internal"),
                (client, "@mention ü — naïve", "shared"),
                (reviewer, "+7 points\n-5 points", "shared"),
                (client, "start", "shared"),
            ]
        ):
            comments.add_comment(s, who, aid, body, visibility=visibility, now=T[i + 1])
        # Bodies are trimmed on the way in; whatever sits in the database is escaped on the way out
        # (NUL, which PostgreSQL cannot store, is covered by the csv_bytes golden above).
        s.execute(update(LeadComment).where(LeadComment.id == 3).values(body="\tinternal note"))
        # Line breaks are stored as LF; a CR LF from an older row must still be quoted whole.
        s.execute(
            update(LeadComment).where(LeadComment.id == 2).values(body='He said "ok"\r\nthen left')
        )
        s.execute(update(LeadComment).where(LeadComment.id == 6).values(body="\rstart; end"))
    return {"url": db_url, "client": client, "reviewer": reviewer}


def _comment_line(cid, author, role, visibility, minute, body) -> str:
    return (
        f'{cid},1,"\'+Ünïcode ""Org"", Ltd","\'-Widget, ""v2""",'
        f"SecureSphere Product Security Baseline,1,1,,,{author},{role},{visibility},False,"
        f"2026-03-01T09:0{minute}:00Z,{body}"
    )


GOLDEN = [
    "comment_id,assessment_id,organization,product,questionnaire,questionnaire_version,cycle,"
    "question_key,reply_to,author,author_role,visibility,resolved,created_at,body",
    _comment_line(1, "Client1", "client", "shared", 1, "'=1+1"),
    _comment_line(2, "Reviewer1", "lead_reviewer", "shared", 2, '"He said ""ok""\r\nthen left"'),
    _comment_line(3, "Reviewer1", "lead_reviewer", "internal", 3, "'\tinternal note"),
    _comment_line(4, "Client1", "client", "shared", 4, "'@mention ü — naïve"),
    _comment_line(5, "Reviewer1", "lead_reviewer", "shared", 5, '"\'+7 points\n-5 points"'),
    _comment_line(6, "Client1", "client", "shared", 6, '"\'\rstart; end"'),
]


def test_comments_extract_golden_bytes(crafted):
    with db.reading(crafted["url"]) as s:
        staff = extract_csv(s, SYSTEM, "comments", Filters())
        client = extract_csv(s, crafted["client"], "comments", Filters())
    assert staff == (CRLF.join(GOLDEN) + CRLF).encode("utf-8")
    assert client == (CRLF.join(GOLDEN[:3] + GOLDEN[4:]) + CRLF).encode("utf-8")


def test_xlsx_cells_are_escaped_like_csv_and_never_formulas(crafted):
    with db.reading(crafted["url"]) as s:
        data = workbook_xlsx(s, SYSTEM, Filters())
    book = zipfile.ZipFile(io.BytesIO(data))
    workbook = book.read("xl/workbook.xml").decode()
    assert list(re.findall(r'<sheet name="([^"]+)"', workbook)) == [*EXTRACTS, "data_dictionary"]
    sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/sheet")]
    xml = "".join(book.read(n).decode() for n in sheets)
    assert "<f>" not in xml and "<f " not in xml
    assert "&apos;=1+1" in xml or "'=1+1" in xml
    assert "'@mention ü — naïve" in xml and "'\tinternal note" in xml
    assert ">=1+1<" not in xml


def test_client_extracts_hold_only_their_organisation(app_env):
    with db.reading(app_env) as s:
        client = actor_for(s, "demo_client")
        own = s.scalar(select(Organization.name).where(Organization.id == client.organization_id))
        for name in EXTRACTS:
            staff = {r["organization"] for r in extract_rows(s, SYSTEM, name, Filters())}
            mine = {r["organization"] for r in extract_rows(s, client, name, Filters())}
            assert mine == {own} and len(staff) >= 2, name
            assert "Enterprise Inc" not in extract_csv(s, client, name, Filters()).decode()
        # a client cannot widen its scope with another organisation's filter
        other = s.scalar(select(Organization.id).where(Organization.name == "Enterprise Inc"))
        assert list(extract_rows(s, client, "answers", Filters(organization_id=other))) == []


@pytest.mark.parametrize("username", ["demo_client", "enterprise_client"])
def test_internal_comments_never_reach_a_client(app_env, username):
    with db.reading(app_env) as s:
        client = actor_for(s, username)
        staff = list(extract_rows(s, SYSTEM, "comments", Filters()))
        mine = list(extract_rows(s, client, "comments", Filters()))
        workbook = workbook_xlsx(s, client, Filters())
    internal = [r for r in staff if r["visibility"] == "internal"]
    assert internal and all(r["visibility"] == "shared" for r in mine)
    texts = zipfile.ZipFile(io.BytesIO(workbook))
    xml = "".join(
        texts.read(n).decode() for n in texts.namelist() if n.startswith("xl/worksheets/")
    )
    for row in internal:
        assert row["body"] not in xml


def test_assigned_reviewers_extract_only_their_assessments(app_env):
    with db.transaction(app_env) as s:
        update_setting(s, SYSTEM, "reviewer_visibility", "assigned")
    try:
        other = make_actor(app_env, "lead_reviewer", None, "second_reviewer")
        with db.reading(app_env) as s:
            lead = actor_for(s, "lead_reviewer")
            theirs = {
                r["assessment_id"] for r in extract_rows(s, lead, "status_timeline", Filters())
            }
            fresh = {
                r["assessment_id"] for r in extract_rows(s, other, "status_timeline", Filters())
            }
            everyone = {
                r["assessment_id"] for r in extract_rows(s, SYSTEM, "status_timeline", Filters())
            }
        assert fresh < theirs < everyone
    finally:
        with db.transaction(app_env) as s:
            update_setting(s, SYSTEM, "reviewer_visibility", "all")


def test_filters_narrow_extracts(app_env):
    with db.reading(app_env) as s:
        org = s.scalar(select(Organization.id).where(Organization.name == "Demo Corp"))
        every = extract_count(s, SYSTEM, "answers", Filters())
        one = extract_count(s, SYSTEM, "answers", Filters(organization_id=org))
        assert 0 < one < every == len(list(extract_rows(s, SYSTEM, "answers", Filters())))
        future = Filters(start=date(2999, 1, 1), end=date(2999, 12, 31))
        assert all(extract_count(s, SYSTEM, name, future) == 0 for name in EXTRACTS)
        today = Filters(end=date(2000, 1, 1))
        assert extract_csv(s, SYSTEM, "snapshots", today).count(b"\r\n") == 1  # header only
        sections = list(extract_rows(s, SYSTEM, "section_scores", Filters()))
        assert (
            sections
            and {r["section"] for r in sections}
            and all(r["score"] is None or 0 <= r["score"] <= 100 for r in sections)
        )


def test_data_dictionary_describes_every_column_of_every_extract(app_env):
    described = {(d.extract, d.column) for d in data_dictionary()}
    with db.reading(app_env) as s:
        for name, extract in EXTRACTS.items():
            header = (
                extract_csv(s, SYSTEM, name, Filters()).split(b"\r\n", 1)[0].decode().split(",")
            )
            assert header == [c.name for c in extract.columns]
            assert {(name, c) for c in header} <= described
    assert all(d.description and d.type for d in data_dictionary())
    assert dictionary_csv().startswith(",".join(DICTIONARY_COLUMNS).encode() + b"\r\n")


# --- issue 12 item 10: times in ISO 8601 UTC, option labels beside keys, scores as on screen ------

ISO_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def test_a_time_in_another_zone_leaves_as_the_same_instant_in_utc():
    paris = timezone(timedelta(hours=1))
    assert iso_utc(datetime(2026, 12, 1, 15, 5, tzinfo=paris)) == "2026-12-01T14:05:00Z"
    assert iso_utc(datetime(2026, 12, 1, 14, 5)) == "2026-12-01T14:05:00Z"  # stored naive = UTC
    assert iso_utc("kept") == "kept" and iso_utc(None) is None


def test_every_time_in_every_extract_is_iso_8601_utc(app_env):
    with db.reading(app_env) as s:
        for name, extract in EXTRACTS.items():
            timed = [c.name for c in extract.columns if c.type == TIME]
            rows = list(extract_rows(s, SYSTEM, name, Filters()))
            values = [r[c] for r in rows for c in timed if r[c] is not None]
            assert timed and values, name
            assert all(isinstance(v, str) and ISO_UTC.fullmatch(v) for v in values), (
                name,
                values[:3],
            )


def test_answers_extract_gives_the_option_label_beside_the_key(app_env):
    with db.reading(app_env) as s:
        header = (
            extract_csv(s, SYSTEM, "answers", Filters()).split(b"\r\n", 1)[0].decode().split(",")
        )
        rows = list(extract_rows(s, SYSTEM, "answers", Filters()))
        aid = rows[0]["assessment_id"]
        bank = load_bank(s, s.get(Assessment, aid).questionnaire_id)
    assert header.index("value_label") == header.index("value") + 1
    labels = {q.key: {o.key: o.label for o in q.options} for q in bank.questions}
    kinds = {q.key: q.type for q in bank.questions}
    mine = [r for r in rows if r["assessment_id"] == aid and r["value"] is not None]
    seen = set()
    for row in mine:
        options, value = labels[row["question_key"]], row["value"]
        if isinstance(value, list):
            expected = "; ".join(options[v] for v in value)
        else:
            expected = options[value] if options else None
        assert row["value_label"] == expected, row
        seen.add(kinds[row["question_key"]])
    assert {"yes_no", "multi_choice", "single_choice"} <= seen, seen


def test_extract_scores_and_completion_read_0_to_100_as_on_screen(app_env):
    with db.reading(app_env) as s:
        answers = list(extract_rows(s, SYSTEM, "answers", Filters()))
        snapshots = list(extract_rows(s, SYSTEM, "snapshots", Filters()))
        stored = dict(s.execute(select(ScoreHistory.id, ScoreHistory.completion)).all())
        overall = dict(s.execute(select(ScoreHistory.id, ScoreHistory.overall_score)).all())
        partial = s.scalar(
            select(func.count())
            .select_from(QuestionnaireResponse)
            .where(QuestionnaireResponse.score == 0.5)
        )
    scored = [r["score"] for r in answers if r["score"] is not None]
    assert partial and 50.0 in scored and max(scored) == 100.0  # "partially" is 50 on screen
    assert all(0 <= v <= 100 and v == round(v, 1) for v in scored)
    for row in snapshots:
        assert row["completion"] == round(stored[row["snapshot_id"]] * 100, 1)
        if row["overall_score"] is not None:
            assert f"{row['overall_score']}" == f"{overall[row['snapshot_id']]:.1f}".rstrip(
                "0"
            ).rstrip(".") or row["overall_score"] == round(overall[row["snapshot_id"]], 1)


AUDIT_ROWS = [
    AuditEntry(
        id=2,
        created_at=datetime(2026, 12, 1, 14, 5, 9, tzinfo=UTC),
        actor_id=1,
        username="=admin",
        actor_role="admin",
        action="setting_changed",
        object_type="setting",
        object_id="reviewer_visibility",
        detail={"old": "all", "new": "assigned"},
    ),
    AuditEntry(
        id=1,
        created_at=datetime(2026, 12, 1, 14, 0, tzinfo=UTC),
        actor_id=None,
        username=None,
        actor_role="",
        action="sign_in_failed",
        object_type="user",
        object_id="",
        detail={"username": "-nobody"},
    ),
]


def test_audit_export_golden_bytes_keys_json_iso_times_and_readable_words():
    expected = (
        CRLF.join(
            [
                "id,created_at,username,actor_role,action,action_label,object_type,object_id,detail,description",
                "2,2026-12-01T14:05:09Z,'=admin,admin,setting_changed,Setting changed,setting,reviewer_visibility,"
                '"{""old"": ""all"", ""new"": ""assigned""}","All assessments → Assigned to them, and unclaimed"',
                "1,2026-12-01T14:00:00Z,,,sign_in_failed,Sign-in failed,user,,"
                '"{""username"": ""-nobody""}",Username: -nobody',
            ]
        )
        + CRLF
    )
    assert audit_csv(AUDIT_ROWS) == expected.encode("utf-8")


# --- issue 21: assurance per answer, shares per snapshot, evidence valid until ------------------


@pytest.fixture
def assured(db_url, tmp_path):
    """An approved assessment with an accepted answer, an in-date file, an expired one and a
    file without a day, and a second, open assessment of another organisation."""
    w = World(db_url, tmp_path / "data")
    client = w.person("client", w.org("Acme Ltd"))
    rival = w.person("client", w.org("Rival plc"))
    reviewer = w.person("lead_reviewer")
    aid = w.answered(client, w.product(client), quality=1.0)
    keys = [
        q.key
        for q in w.bank.questions
        if q.condition is None and not q.evidence_required and q.type == "yes_no"
    ][:4]
    today = datetime.now(UTC).date()
    days = (today + timedelta(days=90), today - timedelta(days=1), None)
    for key, until in zip(keys[1:], days, strict=True):
        with db.transaction(db_url) as s:
            add_evidence(
                s,
                client,
                aid,
                question_key=key,
                filename=f"{key}.pdf",
                data=sample_pdf(key),
                data_dir=w.data_dir,
                valid_until=until,
            )
    w.submit(client, aid)
    with db.transaction(db_url) as s:
        review.claim(s, reviewer, aid)
        review.set_review_state(s, reviewer, aid, keys[0], "accepted")
        review.decide(s, reviewer, aid, "approved")
    w.answered(rival, w.product(rival, "Rival product"))
    w.name(client=client, rival=rival, aid=aid, keys=keys)
    return w


def test_the_answers_extract_says_each_answers_assurance_in_words(assured):
    w = assured
    with db.reading(w.url) as s:
        levels = answer_levels(s, w["aid"])
        rows = list(extract_rows(s, w["client"], "answers", Filters()))
        text = extract_csv(s, w["client"], "answers", Filters()).decode()
    header = text.split(CRLF, 1)[0].split(",")
    assert header.index("assurance") == header.index("review_state") + 1
    assert {r["assessment_id"] for r in rows} == {w["aid"]}
    by_key = {r["question_key"]: r["assurance"] for r in rows}
    assert by_key == {k: LEVEL_LABELS[v] for k, v in levels.items()}
    assert [by_key[k] for k in w["keys"]] == [
        "Reviewer-accepted",
        "Evidence in date",
        "With evidence",
        "With evidence",
    ]
    lines = list(csv.DictReader(io.StringIO(text)))
    assert {r["question_key"]: r["assurance"] for r in lines} == by_key


def test_snapshot_extracts_carry_the_assurance_shares_and_none_for_older_snapshots(assured):
    w = assured
    old, new = w.snapshots(w["aid"])[-2:]
    with db.transaction(w.url) as s:  # as if taken before the shares were kept
        s.execute(update(ScoreHistory).where(ScoreHistory.id == old.id).values(assurance=None))
    with db.reading(w.url) as s:
        snapshots = {
            r["snapshot_id"]: r for r in extract_rows(s, w["client"], "snapshots", Filters())
        }
        sections = list(extract_rows(s, w["client"], "section_scores", Filters()))
    columns = [f"{level}_share" for level in LEVELS]
    assert all(snapshots[old.id][c] is None for c in columns)
    shares = new.assurance["overall"]
    assert [snapshots[new.id][c] for c in columns] == [round(shares[lv], 1) for lv in LEVELS]
    assert snapshots[new.id]["accepted_share"] > 0 and snapshots[new.id]["evidence_valid_share"] > 0
    assert sum(snapshots[new.id][c] for c in columns) == pytest.approx(100, abs=0.2)
    for row in sections:
        stored = (new.assurance["sections"] if row["snapshot_id"] == new.id else {}).get(
            row["section_key"]
        )
        expected = [None] * 4 if stored is None else [round(stored[lv], 1) for lv in LEVELS]
        assert [row[c] for c in columns] == expected, row


def test_the_evidence_extract_gives_each_files_valid_until_day(assured):
    w = assured
    with db.reading(w.url) as s:
        rows = list(extract_rows(s, w["client"], "evidence", Filters()))
    days = {r["question_key"]: r["valid_until"] for r in rows if r["question_key"] in w["keys"]}
    today = datetime.now(UTC).date()
    assert days == {
        w["keys"][1]: today + timedelta(days=90),
        w["keys"][2]: today - timedelta(days=1),
        w["keys"][3]: None,
    }
