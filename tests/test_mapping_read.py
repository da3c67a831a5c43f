"""Crosswalk files read into neutral pairs (core.mappings.read) and their ids matched to a bank."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ValidationError
from core.mappings.ids import canonical, resolve, withdrawn_controls
from core.mappings.read import (
    DEFAULT_RELATIONSHIP,
    MAX_MAPPING_BYTES,
    MAX_PAIRS,
    Group,
    read_mapping,
)
from core.models import RELATIONSHIPS

DATA = Path(__file__).parent / "data" / "mappings"
DEGENARO = "OSCAL-1.2.1_mapping-collection_CSF-2.0_to_SP800-53r5_degenaro"
BSI = "OSCAL-1.2.2_mapping-collection_ISO27001-2022-AnnexA_to_GSpp_BSI.json"
OLIR = "NIST_OLIR-186_CSF-2.0_to_SP800-53r5.2.0_Concept-Crosswalk_draft.xlsx"
CSF11 = "NIST_csf-pf-to-sp800-53r5-mappings_CSF-1.1+PF-1.0_to_SP800-53r5.xlsx"
HEADER = "source_id,target_id,relationship,confidence,rationale\n"
VOCABULARY = ", ".join(RELATIONSHIPS)


def _read(name: str):
    return read_mapping(name, (DATA / name).read_bytes())


def _refused(name: str, data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    with pytest.raises(ValidationError) as caught:
        read_mapping(name, raw)
    return str(caught.value)


def _collection(*maps: dict, provenance: dict | None = None) -> str:
    mapping = {
        "uuid": "m",
        "source-resource": {"type": "catalog", "href": "a.json"},
        "target-resource": {"type": "catalog", "href": "b.json"},
        "maps": list(maps),
    }
    body = {
        "uuid": "c",
        "metadata": {"title": "Test", "version": "2"},
        "provenance": provenance
        or {
            "method": "human",
            "matching-rationale": "semantic",
            "status": "complete",
            "mapping-description": "A test.",
        },
        "mappings": [mapping],
    }
    return json.dumps({"mapping-collection": body})


def _map(sources=("a-1",), targets=("b-1",), **extra) -> dict:
    entry = {
        "uuid": "x",
        "relationship": "subset-of",
        "sources": [{"type": "control", "id-ref": s} for s in sources],
        "targets": [{"type": "control", "id-ref": t} for t in targets],
    }
    entry.update(extra)
    return {k: v for k, v in entry.items() if v is not None}


def _workbook(sheets: dict[str, list[list[object]]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- the real files ---------------------------------------------------------------------------


def test_degenaro_mapping_has_106_maps_and_737_superset_pairs_at_full_confidence():
    mapping = _read(f"{DEGENARO}.json")
    assert mapping.format == "oscal-json"
    assert (mapping.title, mapping.version) == ("NIST_CSF_v2.0 to NIST_SP-800-53_rev5", "1.0")
    assert len({p.where for p in mapping.pairs}) == 106
    assert len(mapping.pairs) == 737
    assert {p.relationship for p in mapping.pairs} == {"superset-of"}
    assert {p.confidence for p in mapping.pairs} == {1.0}
    assert mapping.groups == (
        Group("catalogs/NIST_CSF_v2.0/catalog.json", "catalogs/NIST_SP-800-53_rev5/catalog.json"),
    )
    assert mapping.pairs[0].source_id == "de.ae-02" and mapping.pairs[0].target_id == "au-6"
    assert mapping.notes == (
        "provenance.method 'manual' is outside OSCAL's vocabulary (human, automation, hybrid).",
        "mapping 1: the source-gap-summary lists 79 source ids as unmapped.",
    )
    assert len(mapping.content_sha256) == 64


def test_bsi_mapping_has_two_groups_and_365_pairs_of_three_relationships():
    mapping = _read(BSI)
    assert len(mapping.groups) == 2
    assert {g.target for g in mapping.groups} == {
        "BSI-Methodik-Grundschutz++-catalog.json",
        "BSI-Stand-der-Technik-Kernel-catalog.json",
    }
    assert len(mapping.pairs) == 365
    assert Counter(p.relationship for p in mapping.pairs) == {
        "subset-of": 319,
        "equivalent-to": 27,
        "intersects-with": 19,
    }
    assert {p.group for p in mapping.pairs} == {0, 1}
    assert {p.confidence for p in mapping.pairs} == {None}
    assert mapping.version == "1.0.1-qa"
    assert mapping.description.startswith("Human-authored semantic mapping of all 93 Annex A")
    assert "The provenance carries keys OSCAL does not define: qa-reviewed, qa-note." in (
        mapping.notes
    )


def test_olir_workbook_gives_746_pairs_with_ids_stripped_and_family_targets_as_written():
    mapping = _read(OLIR)
    assert mapping.format == "olir-workbook"
    assert mapping.title == OLIR.removesuffix(".xlsx")
    assert len(mapping.pairs) == 746
    targets = {p.target_id for p in mapping.pairs}
    assert "PM-09" in targets
    assert not any(t != t.strip() for t in targets)
    assert {"PT", "CP", "IR"} <= targets
    assert {p.relationship for p in mapping.pairs} == {DEFAULT_RELATIONSHIP}
    gv_oc_02 = [p.target_id for p in mapping.pairs if p.source_id == "GV.OC-02"]
    assert gv_oc_02 == ["PM-09", "PM-18", "PM-30", "SR-03", "SR-05", "SR-06", "SR-08"]
    assert mapping.pairs[1].where == "row 5"
    assert mapping.notes == (
        "NIST gives no relationship type: every pair is read as intersects-with.",
    )
    assert sum(1 for p in mapping.pairs if p.source_id in ("RC.RP", "RS.MA")) == 6


def test_csf_11_workbook_is_read_by_its_header_words_leaving_prose_out():
    mapping = _read(CSF11)
    assert len(mapping.pairs) == 495
    # 108 subcategory rows; ID.GV-1 and ID.GV-3 name only "-1 controls from all ... families"
    assert len({p.source_id for p in mapping.pairs}) == 106
    assert mapping.pairs[0].source_id == "ID.AM-1" and mapping.pairs[0].target_id == "CM-8"
    assert mapping.title.startswith("NIST Cybersecurity Framework Version 1.1 to NIST Special")
    assert mapping.notes == (
        "NIST gives no relationship type: every pair is read as intersects-with.",
        "3 entries that are prose rather than ids were left out: row 14 '-1 controls from all "
        "security control families'; row 16 '-1 controls from all security control families'; "
        "row 85 'all -1 controls'.",
        "The workbook's other sheets were not read: README, PF to SP 800-53r5.",
    )


def test_json_xml_and_yaml_editions_read_the_same():
    editions = [_read(f"{DEGENARO}.{ext}") for ext in ("json", "xml", "yaml")]
    assert [m.format for m in editions] == ["oscal-json", "oscal-xml", "oscal-yaml"]
    json_, xml, yaml = editions
    assert json_.pairs == xml.pairs == yaml.pairs
    for other in (xml, yaml):
        assert (other.title, other.version, other.description) == (
            json_.title,
            json_.version,
            json_.description,
        )
        assert (other.groups, other.notes) == (json_.groups, json_.notes)


# --- OSCAL details and refusals ---------------------------------------------------------------


def test_a_map_gives_every_source_target_combination_with_remarks_as_rationale():
    text = _collection(
        _map(("a-1", "a-2"), ("b-1", "b-2", "b-3"), remarks="Because.", relationship="Subset Of")
    )
    mapping = read_mapping("m.json", text.encode())
    assert [(p.source_id, p.target_id) for p in mapping.pairs] == [
        (s, t) for s in ("a-1", "a-2") for t in ("b-1", "b-2", "b-3")
    ]
    assert {(p.relationship, p.rationale, p.where) for p in mapping.pairs} == {
        ("subset-of", "Because.", "mapping 1, map 1")
    }


def test_maps_without_relationship_are_read_as_intersects_with_and_noted():
    everywhere = read_mapping("m.json", _collection(_map(relationship=None)).encode())
    assert everywhere.pairs[0].relationship == "intersects-with"
    assert everywhere.notes == (
        "The file gives no relationship type: every pair is read as intersects-with.",
    )
    some = read_mapping("m.json", _collection(_map(), _map(("a-2",), relationship=None)).encode())
    assert some.notes == (
        "1 of 2 maps gives no relationship type (the first is mapping 1, map 2): their pairs are "
        "read as intersects-with.",
    )


def test_confidence_is_scoped_and_a_category_is_noted():
    provenance = {
        "method": "automation",
        "matching-rationale": "semantic",
        "status": "draft",
        "mapping-description": "d",
        "confidence-score": {"percentage": "0.5"},
    }
    text = _collection(
        _map(), _map(**{"confidence-score": {"category": "high"}}), provenance=provenance
    )
    mapping = read_mapping("m.json", text.encode())
    assert [p.confidence for p in mapping.pairs] == [0.5, 0.5]
    assert "The provenance calls this mapping draft." in mapping.notes
    assert "A confidence given as the category 'high', not a number, is left out." in mapping.notes


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            _collection(_map(), _map(), _map(relationship="similar")),
            f"m.json: mapping 1, map 3: relationship 'similar' is not one of {VOCABULARY}.",
        ),
        (_collection(_map(sources=())), "m.json: mapping 1, map 1 has no sources."),
        (_collection(_map(targets=())), "m.json: mapping 1, map 1 has no targets."),
        (
            _collection(_map(sources=("  ",))),
            "m.json: mapping 1, map 1, source 1: the source id is blank.",
        ),
        (
            _collection(_map(targets=("ac-\x072",))),
            "m.json: mapping 1, map 1, target 1: the target id 'ac-\\x072' contains the control "
            "character U+0007.",
        ),
        (
            _collection(_map(targets=("ac-2\nac-3",))),
            "m.json: mapping 1, map 1, target 1: the target id 'ac-2\\nac-3' contains a line "
            "break.",
        ),
        (
            _collection(_map(**{"confidence-score": {"percentage": 1.5}})),
            "m.json: mapping 1, map 1: confidence-score percentage 1.5 is not a number from 0 "
            "to 1.",
        ),
        (
            json.dumps({"catalog": {"uuid": "x"}}),
            "m.json: this is an OSCAL catalog, not a mapping-collection.",
        ),
        (
            '{"name": "not OSCAL"}',
            "m.json: not a mapping file: it is none of an OSCAL mapping-collection (JSON, XML or "
            "YAML), an OLIR crosswalk workbook (.xlsx) or a CSV with the columns source_id, "
            "target_id, relationship.",
        ),
        ('{"mapping-collection": ', "m.json: not valid JSON at line 1, column 24: Expecting"),
        (
            json.dumps({"mapping-collection": {"metadata": {}, "mappings": []}}),
            "m.json: the mapping-collection has no mappings.",
        ),
    ],
)
def test_bad_oscal_json_is_refused_by_place(text, message):
    assert _refused("m.json", text).startswith(message)


def test_more_than_max_pairs_is_refused_before_the_pairs_are_built():
    sources = [f"a-{i}" for i in range(500)]
    targets = [f"b-{i}" for i in range(MAX_PAIRS // 500 + 1)]
    message = _refused("m.json", _collection(_map(sources, targets)))
    assert message == (
        "m.json: mapping 1, map 1: the file holds more than 200,000 pairs, the most one mapping "
        "file may hold."
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "<mapping-collection>\n  <metadata>\n</mapping-collection>",
            "m.xml: not well-formed XML at line 3, column 3.",
        ),
        (
            '<!DOCTYPE x [<!ENTITY a "b">]><mapping-collection/>',
            "m.xml: XML with a DOCTYPE or entities is refused.",
        ),
        (
            '<catalog xmlns="http://csrc.nist.gov/ns/oscal/1.0"/>',
            "m.xml: this is an OSCAL catalog, not a mapping-collection.",
        ),
        (
            '<mapping-collection xmlns="urn:other"/>',
            "m.xml: not an OSCAL mapping-collection (the root element is <mapping-collection> in "
            "namespace urn:other).",
        ),
        ("mapping-collection: [", "m.xml: line 2, column 1: invalid YAML"),
        ("just some words", "m.xml: not a mapping file: it is none of"),
    ],
)
def test_bad_xml_and_yaml_are_refused(text, message):
    assert _refused("m.xml", text).startswith(message)


# --- CSV ----------------------------------------------------------------------------------------


def test_csv_reads_pairs_with_relationship_words_confidence_and_rationale():
    text = (
        "\ufeff Source_ID , target_id,RELATIONSHIP , Confidence,rationale\n"
        'AC-2(1),ia-2,Subset Of,0.75,"Both, roughly"\n'
        "\n"
        "PM-09 , pm-9,equal,,\n"
        "x-1,y-1,,1,\n"
    )
    mapping = read_mapping("map.csv", text.encode())
    assert mapping.format == "csv" and mapping.title == "map"
    assert [
        (p.source_id, p.target_id, p.relationship, p.confidence, p.rationale, p.where)
        for p in mapping.pairs
    ] == [
        ("AC-2(1)", "ia-2", "subset-of", 0.75, "Both, roughly", "row 2"),
        ("PM-09", "pm-9", "equal-to", None, "", "row 4"),
        ("x-1", "y-1", "intersects-with", 1.0, "", "row 5"),
    ]
    assert mapping.notes == (
        "1 of 3 rows gives no relationship type (the first is row 5): their pairs are read as "
        "intersects-with.",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "source,target\na,b\n",
            "m.csv: row 1: the header must name the columns source_id, target_id, relationship "
            "and optionally confidence and rationale; it has source, target.",
        ),
        (
            "source_id,target_id,relationship,weight\na,b,equal-to,1\n",
            "m.csv: row 1: the header must name the columns source_id, target_id, relationship "
            "and optionally confidence and rationale; it has source_id, target_id, relationship, "
            "weight.",
        ),
        (
            "source_id,target_id,relationship\na,b,equal-to\nc,d,similar\n",
            f"m.csv: row 3: relationship 'similar' is not one of {VOCABULARY}.",
        ),
        (
            "source_id,target_id,relationship,confidence\na,b,,1.5\n",
            "m.csv: row 2: confidence '1.5' is not a number from 0 to 1.",
        ),
        (
            "source_id,target_id,relationship,confidence\na,b,,high\n",
            "m.csv: row 2: confidence 'high' is not a number from 0 to 1.",
        ),
        (
            "source_id,target_id,relationship\na,b,equal-to,extra\n",
            "m.csv: row 2 has 4 cells but the header names 3 columns.",
        ),
        ("source_id,target_id,relationship\n,b,\n", "m.csv: row 2: the source id is blank."),
        (
            "source_id,target_id,relationship\n",
            "m.csv: the file holds no mapping pairs (no row below the header).",
        ),
    ],
)
def test_bad_csv_is_refused_by_row(text, message):
    assert _refused("m.csv", text) == message


# --- workbooks ----------------------------------------------------------------------------------


def test_workbook_columns_are_found_by_words_with_cover_relationship_and_strength():
    data = _workbook(
        {
            "Intro": [
                ["Title:", "Example crosswalk"],
                ["Version", "1.2"],
                ["Focal Document", "Framework A"],
                ["Reference Document", "Catalog B"],
            ],
            "Rels": [
                ["An example workbook"],
                [
                    "Strength of\nRelationship",
                    "REFERENCE DOCUMENT\nELEMENT",
                    "Relationship",
                    "Focal Document Element",
                    "Comments (Optional)",
                ],
                [None, None, None, "A", None],
                [80, "b-1\n", "Subset Of", "A-1", "close"],
                [None, "b-2", "not related to", "A-1", None],
                [20, "b-3", None, "A-2", None],
            ],
        }
    )
    mapping = read_mapping("book.xlsx", data)
    assert (mapping.title, mapping.version) == ("Example crosswalk", "1.2")
    assert mapping.groups == (Group("Framework A", "Catalog B"),)
    assert [
        (p.source_id, p.target_id, p.relationship, p.confidence, p.rationale, p.where)
        for p in mapping.pairs
    ] == [
        ("A-1", "b-1", "subset-of", 0.8, "close", "row 4"),
        ("A-1", "b-2", "no-relationship", None, "", "row 5"),
        ("A-2", "b-3", "intersects-with", 0.2, "", "row 6"),
    ]
    assert mapping.notes == (
        "1 of 3 rows gives no relationship type (the first is row 6): their pairs are read as "
        "intersects-with.",
        "Strength of relationship is read as a percentage and divided by 100.",
    )


@pytest.mark.parametrize(
    ("sheets", "message"),
    [
        (
            {"Sheet": [["Control", "Text"], ["a", "b"]]},
            "w.xlsx: no sheet has a crosswalk header: expected a row with 'Focal Document "
            "Element' and 'Reference Document Element' columns (NIST OLIR), or with "
            "'Subcategory' and '... Control' columns.",
        ),
        (
            {"R": [["Focal Document Element", "Reference Document Element"], [None, "b-1"]]},
            "w.xlsx: row 2: the source id is blank.",
        ),
        (
            {
                "R": [
                    ["Focal Document Element", "Reference Document Element", "Relationship"],
                    ["a", "b", "similar to"],
                ]
            },
            f"w.xlsx: row 2: relationship 'similar to' is not one of {VOCABULARY}.",
        ),
        (
            {"R": [["Focal Document Element", "Reference Document Element"], ["GV", None]]},
            "w.xlsx: the file holds no mapping pairs (no row below the header of sheet 'R' "
            "names a reference element).",
        ),
    ],
)
def test_bad_workbooks_are_refused(sheets, message):
    assert _refused("w.xlsx", _workbook(sheets)) == message


def test_a_zip_that_is_no_workbook_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "hello")
    assert _refused("w.xlsx", out.getvalue()) == (
        "w.xlsx: this ZIP archive is not an Excel .xlsx workbook."
    )
    assert _refused("w.xlsx", b"PK\x03\x04 cut short") == (
        "w.xlsx: the ZIP archive cannot be opened; is it cut short?"
    )


# --- bytes and encodings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "f: the file is empty."),
        (b"  \n\t", "f: the file holds only blank space."),
        (b"{" + b" " * MAX_MAPPING_BYTES, "f: the file is larger than 20 MB, the most allowed."),
        (
            "source_id,target_id,relationship\ncafé,b,\n".encode("utf-16"),
            "f: the file is UTF-16 or UTF-32 text; save it as UTF-8.",
        ),
        (
            "source_id,target_id,relationship\ncafé,b,\n".encode("latin-1"),
            "f: the file is not UTF-8 text (byte 37 is not valid UTF-8); save it as UTF-8.",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16,
            "f: this is an old-style .xls or a password-protected workbook; save it as an "
            "unprotected .xlsx workbook.",
        ),
    ],
)
def test_bad_bytes_are_refused(data, message):
    assert _refused("f", data) == message


# --- ids ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "form"),
    [
        ("AC-2(1)", "ac-2.1"),
        ("ac-2.1", "ac-2.1"),
        ("PM-09", "pm-9"),
        ("PM-09\n", "pm-9"),
        ("CP-02(08)", "cp-2.8"),
        ("GV.OC-01", "gv.oc-1"),
        ("gv.oc-01", "gv.oc-1"),
        (" IA-2 (12) ", "ia-2.12"),
        ("AC-10", "ac-10"),
        ("SC-100", "sc-100"),
        ("v1.2.3", "v1.2.3"),
        ("dp-backups", "dp-backups"),
        ("00", "0"),
    ],
)
def test_canonical_form(raw, form):
    assert canonical(raw) == form


QUESTIONS = ["ac-2", "ac-2.1", "pm-9", "cp-2.8", "ia-2.12", "gv.oc-01", "v1.2.3", "dp-backups"]
SECTIONS = ["ac", "pm", "pt", "gv", "gv.oc"]


@pytest.mark.parametrize(
    ("raw", "kind", "expected"),
    [
        ("AC-2(1)", "questions", "ac-2.1"),
        ("ac-2.1", "questions", "ac-2.1"),
        ("PM-09", "questions", "pm-9"),
        ("CP-02(08)", "questions", "cp-2.8"),
        ("GV.OC-01", "questions", "gv.oc-01"),
        ("V1.2.3", "questions", "v1.2.3"),
        ("PT", "families", "pt"),
        ("GV.OC", "families", "gv.oc"),
        ("RA-04", "withdrawn", "RA-3"),
        ("AC-3(6)", "withdrawn", "MP-4, SC-28"),
        ("XX-99", "unresolved", None),
    ],
)
def test_resolve(raw, kind, expected):
    found = resolve([raw], QUESTIONS, SECTIONS)
    if kind == "unresolved":
        assert found.unresolved == (raw,)
    else:
        assert getattr(found, kind) == {raw: expected}
    assert (
        sum(map(len, (found.questions, found.families, found.withdrawn))) + len(found.unresolved)
        == 1
    )


def test_resolve_keeps_first_seen_order_and_never_calls_a_question_withdrawn():
    found = resolve(["zz-2", "RA-04", "zz-1", "zz-2", "ra-4"], iter(["ra-4"]), iter([]))
    assert found.questions == {"RA-04": "ra-4", "ra-4": "ra-4"}
    assert found.withdrawn == {}
    assert found.unresolved == ("zz-2", "zz-1")


def test_resolve_reports_canonical_collisions_in_the_bank():
    found = resolve(["AC-2", "ac-02"], ["ac-2", "ac-02"], [])
    assert found.ambiguous == {"AC-2": ("ac-2", "ac-02")}
    assert found.questions == {"ac-02": "ac-02"}


def test_withdrawn_controls_come_from_the_reference_catalog():
    withdrawn = withdrawn_controls()
    assert len(withdrawn) == 182
    assert withdrawn["ra-4"] == "RA-3"
    assert withdrawn["ac-2.10"] == "AC-2"  # incorporated into a part of AC-2
    withdrawn.clear()
    assert withdrawn_controls()["ra-4"] == "RA-3"


def test_olir_targets_name_one_withdrawn_control():
    targets = [p.target_id for p in _read(OLIR).pairs]
    found = resolve(targets, ["ra-3", "pm-9"], ["pt", "cp", "ir"])
    assert found.withdrawn == {"RA-04": "RA-3"}
    assert found.families == {"PT": "pt", "CP": "cp", "IR": "ir"}
    assert found.questions["PM-09"] == "pm-9"


# --- properties ---------------------------------------------------------------------------------


@given(st.text())
def test_canonical_is_idempotent(raw):
    assert canonical(canonical(raw)) == canonical(raw)


_ID = (
    st.text(st.characters(exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp")), max_size=30)
    .map(str.strip)
    .filter(bool)
)
_PAIR = st.tuples(
    _ID,
    _ID,
    st.sampled_from(RELATIONSHIPS),
    st.none() | st.floats(min_value=0, max_value=1),
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00")).map(str.strip),
)


@given(st.lists(_PAIR, min_size=1, max_size=20))
def test_a_csv_of_valid_pairs_reads_back_the_same_pairs(pairs):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["source_id", "target_id", "relationship", "confidence", "rationale"])
    for source, target, relationship, confidence, rationale in pairs:
        writer.writerow(
            [
                source,
                target,
                relationship,
                "" if confidence is None else repr(confidence),
                rationale,
            ]
        )
    mapping = read_mapping("pairs.csv", out.getvalue().encode())
    assert [
        (p.source_id, p.target_id, p.relationship, p.confidence, p.rationale) for p in mapping.pairs
    ] == pairs
