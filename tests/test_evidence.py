"""Evidence uploads: the checks on names and bytes (pure), and storage through core on both engines."""

import hashlib
import io
import json
import random
import re
import zipfile
import zlib
from datetime import UTC, date, datetime, timedelta
from functools import cache

import pytest
from PIL import Image
from sqlalchemy import func, select, update

from core import audit_chain, db, evidence, responses, settings, submission
from core.auth import actor_for
from core.banks.store import load_bank
from core.config import load_settings
from core.demo_content import attach_evidence, demo_answers, sample_pdf
from core.errors import AccessDenied, NotFound, SecureSphereError, ValidationError
from core.evidence_validity import check_valid_until, expiry_words
from core.labels import format_date
from core.models import Assessment, AuditLog, EvidenceFile, Product, SystemSetting
from core.uploads import ALLOWED_TYPES, CheckedUpload, check_upload, download_name
from tests.apptest import rerun, signed_in
from tests.factories import World

MB = 1024 * 1024
LIMIT = 20 * MB
PDF = sample_pdf("Penetration test summary")


def _image(fmt: str, size=(40, 30), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, "teal").save(buffer, fmt)
    return buffer.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A well-formed PNG header for a huge image, with almost no pixel data behind it."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")
        )

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([1, 0, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(64)))
        + chunk(b"IEND", b"")
    )


PNG, JPEG, GIF = _image("PNG"), _image("JPEG"), _image("GIF")
# The signature right, the body not an image: what crashed the reviewer's preview.
FAKE_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
FAKE_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(64))
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(64)


def _zip(members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _office(main_part: str) -> bytes:
    return _zip(
        {
            "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="urn:x"/>',
            main_part: b'<?xml version="1.0"?><doc><p>Firewall rules, reviewed 2024-05.</p></doc>',
        }
    )


DOCX, XLSX, PPTX = (
    _office("word/document.xml"),
    _office("xl/workbook.xml"),
    _office("ppt/presentation.xml"),
)


@cache
def _zip_bomb() -> bytes:
    """200 MB of zeros behind a ~200 KB .docx, written in chunks so the test never holds 200 MB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            chunk = bytes(MB)
            for _ in range(200):
                member.write(chunk)
    return buffer.getvalue()


def _corrupt_zip() -> bytes:
    """A zip whose directory is intact but whose compressed data is scrambled."""
    data = bytearray(
        _zip(
            {
                "[Content_Types].xml": b"<Types/>",
                "word/document.xml": bytes(random.Random(3).randbytes(4000)),
            }
        )
    )
    start = data.index(b"word/document.xml") + len("word/document.xml")
    data[start + 100 : start + 400] = bytes(300)
    return bytes(data)


BAD = [
    ("empty", "report.pdf", lambda: b"", "empty"),
    ("oversize", "notes.txt", lambda: b"x" * (LIMIT + 1), r"limit is 20 MB"),
    ("pdf that is an exe", "report.pdf", lambda: EXE, r"does not match its \.pdf"),
    ("exe behind pdf", "report.pdf.exe", lambda: EXE, r"program extension \(\.exe\)"),
    ("exe inside name", "x.exe.pdf", lambda: PDF, r"program extension \(\.exe\)"),
    ("php inside name", "photo.php.jpg", lambda: JPEG, r"program extension \(\.php\)"),
    ("path traversal", "../../etc/passwd.txt", lambda: b"root:x:0:0", "plain name"),
    ("windows path", "..\\..\\boot.txt", lambda: b"hello", "plain name"),
    ("dot dot", "..", lambda: b"hello", "plain name"),
    ("alternate stream", "notes.txt:hidden", lambda: b"hello", "plain name"),
    ("nul in name", "report\x00.pdf", lambda: PDF, r"control character \(U\+0000"),
    ("newline at end", "report.pdf\n", lambda: PDF, r"control character \(U\+000A"),
    (
        "right-to-left override",
        "report\u202efdp.txt",
        lambda: b"hello",
        r"bidirectional control character \(U\+202E",
    ),
    ("no name", "", lambda: b"hello", "needs a name"),
    ("too long", "a" * 197 + ".pdf", lambda: PDF, "longer than 200"),
    ("no extension", "README", lambda: b"hello", "needs an extension"),
    ("unknown extension", "data.xyz", lambda: b"hello", r"\.xyz are not accepted"),
    ("archive", "bundle.zip", lambda: DOCX, r"\.zip are not accepted"),
    ("png that is a jpeg", "shot.png", lambda: JPEG, r"does not match its \.png"),
    ("text with nul", "notes.txt", lambda: b"abc\x00def", r"does not match its \.txt"),
    ("text not utf-8", "notes.csv", lambda: b"caf\xe9;1\n", r"does not match its \.csv"),
    ("docx that is not a zip", "report.docx", lambda: PDF, r"does not match its \.docx"),
    ("xlsx named docx", "report.docx", lambda: XLSX, r"does not match its \.docx"),
    ("zip bomb as docx", "report.docx", _zip_bomb, "more than 100 MB"),
    (
        "ratio bomb as xlsx",
        "sheet.xlsx",
        lambda: _zip({"[Content_Types].xml": b"<Types/>", "xl/sheet.xml": bytes(5 * MB)}),
        "more than 100:1",
    ),
    (
        "too many parts",
        "deck.pptx",
        lambda: _zip({f"ppt/s{i}.xml": b"" for i in range(1001)}, zipfile.ZIP_STORED),
        "more than 1000 parts",
    ),
    ("corrupt zip", "report.docx", _corrupt_zip, "damaged"),
    ("truncated zip", "report.docx", lambda: DOCX[: len(DOCX) // 2], "damaged"),
    ("png signature, garbage body", "shot.png", lambda: FAKE_PNG, "not a readable PNG image"),
    ("jpeg signature, garbage body", "photo.jpg", lambda: FAKE_JPEG, "not a readable JPEG image"),
    (
        "gif signature, garbage body",
        "anim.gif",
        lambda: b"GIF89a" + bytes(20),
        "not a readable GIF image",
    ),
    ("truncated png", "shot.png", lambda: PNG[: len(PNG) // 2], "not a readable PNG image"),
    ("truncated jpeg", "photo.jpg", lambda: JPEG[: len(JPEG) - 40], "not a readable JPEG image"),
    (
        "png past our pixel cap",
        "map.png",
        lambda: _image("PNG", (8000, 7000), "1"),
        "8000 x 7000 pixels; the limit is 50 million",
    ),
    (
        "png bomb past pillow's cap",
        "map.png",
        lambda: _png_claiming(20000, 20000),
        "more than 50 million pixels.*decompression bomb",
    ),
]


@pytest.mark.parametrize("name, filename, make, message", BAD, ids=[row[0] for row in BAD])
def test_check_upload_refuses_bad_input_with_a_clear_message(name, filename, make, message):
    with pytest.raises(ValidationError, match=message):
        check_upload(filename, make(), max_bytes=LIMIT)


GOOD = [
    ("Pen test.pdf", PDF, "application/pdf"),
    ("diagram.png", PNG, "image/png"),
    ("photo.jpg", JPEG, "image/jpeg"),
    ("photo.JPEG", JPEG, "image/jpeg"),
    ("anim.gif", GIF, "image/gif"),
    ("grey.png", _image("PNG", mode="L"), "image/png"),
    ("notes.txt", "Pâté: 2FA enforced ✓\n".encode(), "text/plain"),
    ("assets.csv", b"host,owner\nweb1,ops\n", "text/csv"),
    ("runbook.md", b"# Runbook\n", "text/markdown"),
    ("policy.json", b'{"mfa": true}', "application/json"),
    ("auth.log", b"ok\n", "text/plain"),
    ("Policy v2.1.docx", DOCX, ALLOWED_TYPES["docx"][0]),
    ("assets.xlsx", XLSX, ALLOWED_TYPES["xlsx"][0]),
    ("board.pptx", PPTX, ALLOWED_TYPES["pptx"][0]),
    ("Prüfbericht 2024.pdf", PDF, "application/pdf"),
]


@pytest.mark.parametrize("filename, data, content_type", GOOD, ids=[row[0] for row in GOOD])
def test_check_upload_accepts_each_allowed_type(filename, data, content_type):
    assert check_upload(filename, data, max_bytes=LIMIT) == CheckedUpload(filename, content_type)


def test_check_upload_trims_surrounding_spaces_and_accepts_exactly_the_limit():
    assert check_upload("  report.pdf ", PDF, max_bytes=len(PDF)).name == "report.pdf"


@pytest.mark.parametrize(
    "given, expected",
    [
        ("Pen test.pdf", "Pen test.pdf"),
        ('Prüf"be;richt.pdf', "Pr_f_be_richt.pdf"),
        ("ü.pdf", "_.pdf"),
        ("ééé", "evidence"),
        ("", "evidence"),
        ("a\r\nContent-Type: x.txt", "a_Content-Type_ x.txt"),
    ],
)
def test_download_name_is_header_safe_and_never_empty(given, expected):
    assert download_name(given) == expected


def test_sample_pdf_has_correct_cross_reference_offsets():
    data = sample_pdf("Report (draft) \\ ü")
    start = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", data).group(1))
    assert data.startswith(b"%PDF-1.4\n") and data[start:].startswith(b"xref\n0 6\n")
    offsets = [int(line[:10]) for line in data[start:].split(b"\n")[3:8]]
    assert [data[o:].split(b"\n")[0] for o in offsets] == [b"%d 0 obj" % n for n in range(1, 6)]
    stream = re.search(rb"<< /Length (\d+) >>\nstream\n(.*?)\nendstream", data, re.S)
    assert int(stream.group(1)) == len(stream.group(2)) and b"(Report \\(draft\\) \\\\ ?)" in data


# ---- through core, on SQLite and PostgreSQL -------------------------------------------------------


@pytest.fixture
def world(db_url, tmp_path):
    w = World(db_url, tmp_path / "data")
    acme, rival = w.org("Acme Ltd"), w.org("Rival plc")
    client = w.person("client", acme)
    w.name(client=client, id=w.start(client, w.product(client)), key=w.bank.questions[0].key)
    w.name(rival=w.person("client", rival), admin=w.person("admin"))
    w.name(reviewer=w.person("lead_reviewer"))
    return w


def _add(w, actor=None, filename="pentest.pdf", data=PDF, **options):
    options = {
        "question_key": w["key"],
        "filename": filename,
        "data": data,
        "data_dir": w.data_dir,
    } | options
    with db.transaction(w.url) as s:
        return evidence.add_evidence(s, actor or w["client"], w["id"], **options).id


def _read(w, evidence_id, actor=None):
    with db.reading(w.url) as s:
        return evidence.read_evidence(s, actor or w["client"], evidence_id, data_dir=w.data_dir)


def _rows(url) -> int:
    with db.reading(url) as s:
        return s.scalar(select(func.count()).select_from(EvidenceFile))


def _blobs(w) -> list:
    return (
        sorted(p for p in (w.data_dir / "evidence").rglob("*") if p.is_file())
        if w.data_dir.exists()
        else []
    )


def test_add_list_read_round_trip_stores_the_file_under_its_hash(world):
    eid = _add(world)
    digest = hashlib.sha256(PDF).hexdigest()
    with db.reading(world.url) as s:
        listed = evidence.list_evidence(s, world["client"], world["id"])
    assert [
        (r.id, r.question_key, r.filename, r.content_type, r.size_bytes, r.sha256, r.uploaded_by)
        for r in listed
    ] == [
        (
            eid,
            world["key"],
            "pentest.pdf",
            "application/pdf",
            len(PDF),
            digest,
            world["client"].user_id,
        )
    ]
    assert listed[0].created_at is not None
    assert _blobs(world) == [world.data_dir / "evidence" / digest[:2] / digest]
    assert _read(world, eid) == evidence.EvidenceDownload("pentest.pdf", "application/pdf", PDF)
    assert _read(world, eid, world["reviewer"]).data == PDF


def test_same_content_twice_is_stored_once(world):
    first, second = _add(world), _add(world, filename="copy of pentest.pdf")
    assert first != second and _rows(world.url) == 2
    assert len(_blobs(world)) == 1 and _read(world, second).name == "copy of pentest.pdf"


def test_another_organisation_cannot_add_list_or_read(world):
    eid = _add(world)
    for actor in (world["rival"], world["reviewer"]):
        with pytest.raises(AccessDenied):
            _add(world, actor, data=sample_pdf("Planted"))
    with db.reading(world.url) as s, pytest.raises(AccessDenied):
        evidence.list_evidence(s, world["rival"], world["id"])
    with pytest.raises(AccessDenied):
        _read(world, eid, world["rival"])
    assert _rows(world.url) == 1 and len(_blobs(world)) == 1


def test_admin_may_add_to_any_organisation(world):
    _add(world, world["admin"], filename="admin note.txt", data=b"checked on site\n")
    assert _rows(world.url) == 1


def test_upload_limit_comes_from_the_settings(world):
    with db.transaction(world.url) as s:
        s.execute(update(SystemSetting).where(SystemSetting.key == "upload_max_mb").values(value=1))
    with pytest.raises(ValidationError, match="limit is 1 MB"):
        _add(world, filename="big.txt", data=b"a" * (MB + 1))
    assert _rows(world.url) == 0 and _blobs(world) == []
    _add(world, filename="fits.txt", data=b"a" * MB)


@pytest.mark.parametrize(
    "filename, data",
    [
        ("report.pdf", EXE),
        ("report.pdf.exe", PDF),
        ("shot.png", FAKE_PNG),
        ("shot.png", PNG[: len(PNG) // 2]),
    ],
    ids=["exe as pdf", "exe name", "fake png", "truncated png"],
)
def test_bad_upload_writes_neither_row_nor_file(world, filename, data):
    with pytest.raises(ValidationError):
        _add(world, filename=filename, data=data)
    assert _rows(world.url) == 0 and _blobs(world) == []


def test_unknown_question_key_is_refused(world):
    with pytest.raises(NotFound, match="not in bank"):
        _add(world, question_key="no-such-question")
    assert _rows(world.url) == 0


def test_submitted_assessment_takes_no_evidence_changes(world):
    url, client, aid = world.url, world["client"], world["id"]
    eid = _add(world)
    with db.transaction(url) as s:
        bank = load_bank(s, world.bank_id)
        answers = demo_answers(bank, 0.7, random.Random(1))
        responses.save_answers(s, client, aid, answers)
        added = attach_evidence(s, client, aid, bank, answers, world.data_dir)
        submission.submit(s, client, aid)
    with pytest.raises(ValidationError, match="open for answers"):
        _add(world, data=sample_pdf("Late"))
    with pytest.raises(ValidationError, match="open for answers"), db.transaction(url) as s:
        evidence.remove_evidence(s, client, eid)
    assert _rows(url) == 1 + added and _read(world, eid).data == PDF


def test_removed_evidence_is_not_listed_nor_readable(world):
    url, client = world.url, world["client"]
    keep, gone = _add(world), _add(world, filename="old.txt", data=b"outdated\n")
    with pytest.raises(AccessDenied), db.transaction(url) as s:
        evidence.remove_evidence(s, world["rival"], gone)
    with db.transaction(url) as s:
        evidence.remove_evidence(s, client, gone)
    with db.reading(url) as s:
        assert [r.id for r in evidence.list_evidence(s, client, world["id"])] == [keep]
        assert s.get(EvidenceFile, gone).deleted_at is not None
    for attempt in (lambda: _read(world, gone), lambda: _read(world, 999_999)):
        with pytest.raises(NotFound):
            attempt()
    with pytest.raises(NotFound), db.transaction(url) as s:
        evidence.remove_evidence(s, client, gone)


def test_tampered_or_missing_file_is_reported(world):
    eid = _add(world, filename="notes.txt", data=b"MFA is enforced\n")
    [blob] = _blobs(world)
    blob.write_bytes(b"MFA is optional\n")
    with pytest.raises(SecureSphereError, match="damaged"):
        _read(world, eid)
    blob.unlink()
    with pytest.raises(SecureSphereError, match="missing"):
        _read(world, eid)


def test_a_damaged_blob_is_rewritten_by_the_next_upload_of_the_same_content(world):
    _add(world, filename="notes.txt", data=b"MFA is enforced\n")
    [blob] = _blobs(world)
    blob.write_bytes(b"tampered")
    eid = _add(world, filename="again.txt", data=b"MFA is enforced\n")
    assert _read(world, eid).data == b"MFA is enforced\n"


def test_audit_rows_name_the_file_but_never_hold_its_content(world):
    secret = b"root password is hunter2\n"
    eid = _add(world, filename="creds.txt", data=secret)
    with db.transaction(world.url) as s:
        evidence.remove_evidence(s, world["client"], eid)
    with db.reading(world.url) as s:
        rows = s.scalars(
            select(AuditLog).where(AuditLog.action.like("evidence_%")).order_by(AuditLog.id)
        ).all()
        assert audit_chain.verify_chain(s) is None
    assert [(r.action, r.object_id) for r in rows] == [
        ("evidence_added", str(eid)),
        ("evidence_removed", str(eid)),
    ]
    assert rows[0].detail == {
        "assessment_id": world["id"],
        "question_key": world["key"],
        "filename": "creds.txt",
        "size_bytes": len(secret),
        "sha256": hashlib.sha256(secret).hexdigest(),
    }
    assert "hunter2" not in json.dumps([r.detail for r in rows])


# ---- limits on the number of files ----------------------------------------------------------------


def _set(url, key, value):
    with db.transaction(url) as s:
        s.execute(update(SystemSetting).where(SystemSetting.key == key).values(value=value))


def _add_many(w, count, question_key=None, start=0):
    files = [(f"note {i}.txt", f"note {i}\n".encode()) for i in range(start, start + count)]
    with db.transaction(w.url) as s:
        return [
            r.id
            for r in evidence.add_evidence_files(
                s,
                w["client"],
                w["id"],
                question_key=question_key or w["key"],
                files=files,
                data_dir=w.data_dir,
            )
        ]


def test_an_answer_takes_twenty_files_by_default_and_refuses_the_next(world):
    ids = _add_many(world, 20)
    blobs = _blobs(world)
    with pytest.raises(ValidationError, match="An answer may carry at most 20 evidence files"):
        _add(world, filename="one more.txt", data=b"one more\n")
    assert _rows(world.url) == 20 and _blobs(world) == blobs
    with db.transaction(world.url) as s:
        evidence.remove_evidence(s, world["client"], ids[0])
    _add(world, filename="replacement.txt", data=b"replacement\n")  # removed files do not count


def test_a_batch_past_the_answer_limit_is_refused_whole(world):
    _set(world.url, "evidence_max_per_answer", 3)
    _add_many(world, 1)
    blobs = _blobs(world)
    with pytest.raises(
        ValidationError, match="at most 3 evidence files and this one has 1, so 3 more"
    ):
        _add_many(world, 3, start=1)
    assert _rows(world.url) == 1 and _blobs(world) == blobs
    assert len(_add_many(world, 2, start=1)) == 2


def test_the_assessment_limit_counts_every_answer(world):
    _set(world.url, "evidence_max_per_assessment", 10)
    with db.reading(world.url) as s:
        keys = [q.key for q in load_bank(s, world.bank_id).questions[:3]]
    _add_many(world, 6, keys[0])
    _add_many(world, 4, keys[1], start=6)
    blobs = _blobs(world)
    with pytest.raises(ValidationError, match="An assessment may carry at most 10 evidence files"):
        _add_many(world, 1, keys[2], start=10)
    assert _rows(world.url) == 10 and _blobs(world) == blobs


def test_one_bad_file_in_a_batch_adds_nothing_and_is_named(world):
    files = [("good.txt", b"fine\n"), ("shot.png", FAKE_PNG), ("also good.pdf", PDF)]
    with (
        pytest.raises(
            ValidationError, match=r"^shot\.png: The file is not a readable PNG.*No file was added"
        ),
        db.transaction(world.url) as s,
    ):
        evidence.add_evidence_files(
            s,
            world["client"],
            world["id"],
            question_key=world["key"],
            files=files,
            data_dir=world.data_dir,
        )
    assert _rows(world.url) == 0 and _blobs(world) == []


@pytest.mark.parametrize(
    "key, low, high",
    [("evidence_max_per_answer", 1, 200), ("evidence_max_per_assessment", 10, 5000)],
)
def test_evidence_limits_are_validated_settings(key, low, high):
    assert (
        settings.validate_setting(key, low) == low and settings.validate_setting(key, high) == high
    )
    for bad in (low - 1, high + 1, "20", 2.5):
        with pytest.raises(ValidationError, match=f"from {low} to {high}"):
            settings.validate_setting(key, bad)


# ---- the day a file is valid until -----------------------------------------------------------------

TODAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def _valid_until(w, eid, day, actor=None, now=NOW):
    with db.transaction(w.url) as s:
        return evidence.set_valid_until(s, actor or w["client"], eid, day, now=now).valid_until


def _listed_until(w):
    with db.reading(w.url) as s:
        return {r.id: r.valid_until for r in evidence.list_evidence(s, w["client"], w["id"])}


def test_a_file_added_with_a_valid_until_day_lists_it_and_the_audit_row_says_it(world):
    dated = _add(world, valid_until=date(2027, 3, 3), now=NOW)
    undated = _add(world, filename="notes.txt", data=b"MFA is enforced\n", now=NOW)
    batch = None
    with db.transaction(world.url) as s:
        batch = evidence.add_evidence_files(
            s,
            world["client"],
            world["id"],
            question_key=world["key"],
            files=[("a.txt", b"one\n"), ("b.txt", b"two\n")],
            data_dir=world.data_dir,
            valid_until="2027-01-31",
            now=NOW,
        )
        batch = [r.id for r in batch]
    listed = _listed_until(world)
    assert listed[dated] == date(2027, 3, 3) and listed[undated] is None
    assert [listed[i] for i in batch] == [date(2027, 1, 31)] * 2
    with db.reading(world.url) as s:
        details = {
            r.object_id: r.detail
            for r in s.scalars(select(AuditLog).where(AuditLog.action == "evidence_added"))
        }
    assert details[str(dated)]["valid_until"] == "2027-03-03"
    assert "valid_until" not in details[str(undated)]


def test_the_valid_until_day_is_set_changed_and_cleared_and_each_change_audited(world):
    eid = _add(world, now=NOW)
    assert _valid_until(world, eid, date(2027, 6, 30)) == date(2027, 6, 30)
    assert _valid_until(world, eid, "2028-01-15") == date(2028, 1, 15)
    assert _valid_until(world, eid, "2028-01-15") == date(2028, 1, 15)  # unchanged: no row
    assert _valid_until(world, eid, None) is None
    assert _listed_until(world)[eid] is None
    with db.reading(world.url) as s:
        rows = s.scalars(
            select(AuditLog)
            .where(AuditLog.action == "evidence_validity_changed")
            .order_by(AuditLog.id)
        ).all()
        assert audit_chain.verify_chain(s) is None
    assert [r.detail["changed"]["valid_until"] for r in rows] == [
        [None, "2027-06-30"],
        ["2027-06-30", "2028-01-15"],
        ["2028-01-15", None],
    ]
    assert all(r.object_id == str(eid) and r.detail["filename"] == "pentest.pdf" for r in rows)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("31/12/2027", "is not a date"),
        ("2027-02-30", "is not a date"),
        ("tomorrow", "is not a date"),
        (date(2036, 12, 2), "at most 10 years ahead, so 1 Dec 2036 at the latest"),
        (date(2016, 11, 30), "at most 10 years back, so 1 Dec 2016 at the earliest"),
        (12, "must be a date"),
    ],
)
def test_a_bad_valid_until_day_is_refused_with_one_sentence(world, given, message):
    eid = _add(world, now=NOW)
    with pytest.raises(ValidationError, match=message):
        _valid_until(world, eid, given)
    with pytest.raises(ValidationError, match=message):
        _add(world, filename="other.txt", data=b"other\n", valid_until=given, now=NOW)
    assert _listed_until(world) == {eid: None} and _rows(world.url) == 1


def test_the_edges_of_the_ten_years_are_taken():
    assert check_valid_until(date(2036, 12, 1), TODAY) == date(2036, 12, 1)
    assert check_valid_until(date(2016, 12, 1), TODAY) == date(2016, 12, 1)
    assert check_valid_until(" 2027-03-03 ", TODAY) == date(2027, 3, 3)
    assert check_valid_until("", TODAY) is None and check_valid_until(None, TODAY) is None
    assert check_valid_until(datetime(2027, 3, 3, 23, 59), TODAY) == date(2027, 3, 3)
    assert check_valid_until(date(2034, 2, 28), date(2024, 2, 29)) == date(2034, 2, 28)


def test_only_who_may_change_the_evidence_may_change_its_valid_until_day(world):
    eid = _add(world, now=NOW)
    for actor in (world["rival"], world["reviewer"]):
        with pytest.raises(AccessDenied):
            _valid_until(world, eid, date(2027, 1, 1), actor)
    assert _valid_until(world, eid, date(2027, 1, 1), world["admin"]) == date(2027, 1, 1)
    with pytest.raises(NotFound):
        _valid_until(world, 999_999, date(2027, 1, 1))
    with db.transaction(world.url) as s:
        evidence.remove_evidence(s, world["client"], eid)
    with pytest.raises(NotFound):
        _valid_until(world, eid, None)


def test_a_submitted_assessment_keeps_its_valid_until_days(world):
    url, client, aid = world.url, world["client"], world["id"]
    eid = _add(world, valid_until=date(2027, 1, 1), now=NOW)
    with db.transaction(url) as s:
        bank = load_bank(s, world.bank_id)
        answers = demo_answers(bank, 0.7, random.Random(1))
        responses.save_answers(s, client, aid, answers)
        attach_evidence(s, client, aid, bank, answers, world.data_dir)
        submission.submit(s, client, aid)
    with pytest.raises(ValidationError, match="open for answers"):
        _valid_until(world, eid, date(2028, 1, 1))
    assert _listed_until(world)[eid] == date(2027, 1, 1)


@pytest.mark.parametrize(
    ("until", "words"),
    [
        (None, ""),
        (date(2027, 3, 3), "Valid until 3 Mar 2027"),
        (date(2027, 1, 1), "Valid until 1 Jan 2027"),
        (date(2026, 12, 31), "Expires in 30 days"),
        (date(2026, 12, 30), "Expires in 29 days"),
        (date(2026, 12, 6), "Expires in 5 days"),
        (date(2026, 12, 2), "Expires tomorrow"),
        (date(2026, 12, 1), "Expires today"),
        (date(2026, 11, 30), "Expired after 30 Nov 2026"),
    ],
)
def test_the_expiry_reads_in_words(until, words):
    assert expiry_words(until, TODAY) == words


# ---- on the questionnaire page --------------------------------------------------------------------


def _demo_assessment(url, product):
    with db.reading(url) as s:
        return s.scalar(
            select(Assessment.id)
            .join(Product, Product.id == Assessment.product_id)
            .where(Product.name == product, Assessment.cycle == 1)
        )


def settings_dir():
    return load_settings().data_dir


def _questionnaire(url, aid):
    at = signed_in(url, "demo_client").run()
    at.query_params["assessment"] = str(aid)
    return at.switch_page("pages/questionnaire.py").run()


def test_the_questionnaire_says_each_files_expiry_and_sets_its_day(app_env):
    aid = _demo_assessment(app_env, "Internal HR System")
    today = datetime.now(UTC).date()
    with db.transaction(app_env) as s:
        a = s.get(Assessment, aid)
        client = actor_for(s, "demo_client")
        bank = load_bank(s, a.questionnaire_id)
        key = bank.questions[0].key
        best = demo_answers(bank, 1.0, random.Random(1))[key]
        responses.save_answers(s, client, aid, {key: best})
        fid = evidence.add_evidence(
            s,
            client,
            aid,
            question_key=key,
            filename="certificate.pdf",
            data=sample_pdf("Certificate"),
            data_dir=settings_dir(),
            valid_until=today + timedelta(days=5),
        ).id
    at = _questionnaire(app_env, aid)
    assert not at.exception
    labels = [p.proto.popover.label for p in at.get("popover")]
    assert "Expires in 5 days" in labels
    badge = ":violet-badge[Evidence in date]"
    assert any(c.value.startswith(f"`{key}`") and badge in c.value for c in at.caption)
    later = today + timedelta(days=400)
    at.date_input(key=f"until{fid}").set_value(later)
    at.button(key=f"untilsave{fid}").click()
    rerun(at)
    assert not at.exception
    with db.reading(app_env) as s:
        assert s.get(EvidenceFile, fid).valid_until == later
    assert f"Valid until {format_date(later)}" in [p.proto.popover.label for p in at.get("popover")]
    at.button(key=f"untilclear{fid}").click()
    rerun(at)
    with db.reading(app_env) as s:
        assert s.get(EvidenceFile, fid).valid_until is None
    uploader = next(u for u in at.file_uploader if u.key.startswith(f"up{aid}:{key}:"))
    at.date_input(key=f"{uploader.key}:until").set_value(today + timedelta(days=60))
    uploader.set_value([("renewal.pdf", sample_pdf("Renewal"), "application/pdf")])
    rerun(at)
    assert not at.exception
    with db.reading(app_env) as s:
        row = s.scalars(
            select(EvidenceFile).where(
                EvidenceFile.assessment_id == aid, EvidenceFile.filename == "renewal.pdf"
            )
        ).one()
    assert row.valid_until == today + timedelta(days=60)
