"""Framework importers (OSCAL JSON/XML, ASVS CSV) and the shipped framework banks (no database)."""

from __future__ import annotations

import json
import time

import pytest

from core.banks import dump_bank, load_bank_text
from core.banks.asvs import asvs_bank
from core.banks.frameworks import (
    MAX_SOURCE_BYTES,
    SHIPPED,
    framework_bank,
    load_bank_source,
    shipped_banks,
)
from core.banks.model import KEY_PATTERN
from core.banks.oscal import Rules, normalise_key, oscal_bank
from core.banks.oscal_catalog import normalise_catalog
from core.banks.oscal_document import read_document
from core.banks.yaml_io import shipped_bank_paths
from core.errors import ValidationError

CSF, SP800_53, ASVS = (f.key for f in SHIPPED)
ASVS_FILE = next(f for f in SHIPPED if f.key == ASVS).path


@pytest.fixture(scope="module")
def banks():
    return {f.key: framework_bank(f) for f in SHIPPED}


def keys(bank) -> set[str]:
    return {q.key for q in bank.questions}


# --------------------------------------------------------------------------- shipped frameworks


def test_shipped_question_counts(banks):
    # CSF: the file has 185 subcategory controls in 34 categories; 79 of them (and 12 whole
    # categories) are CSF 1.1 items withdrawn in 2.0, recognisable only by their missing
    # implementation examples. 185 - 79 = 106, the CSF 2.0 subcategory count.
    assert len(banks[CSF].questions) == 106
    assert [len(s.questions) for s in banks[CSF].sections] == [31, 21, 22, 11, 13, 8]
    # SP 800-53 LOW: 131 controls directly under the 18 families plus the 18 enhancements the
    # baseline includes (nested controls, e.g. ia-2.1); none is withdrawn. 131 + 18 = 149.
    assert len(banks[SP800_53].questions) == 149
    assert len(banks[SP800_53].sections) == 18
    assert sum(1 for q in banks[SP800_53].questions if "." in q.key) == 18
    # ASVS 5.0.0: 345 requirements, of which 70 are level 1 (in 15 of the 17 chapters).
    assert len(banks[ASVS].questions) == 70
    assert len(banks[ASVS].sections) == 15


def test_shipped_banks_are_yaml_banks_then_frameworks(banks):
    shipped = shipped_banks()
    assert [b.key for b in shipped][-3:] == [CSF, SP800_53, ASVS]
    assert len(shipped) == len(shipped_bank_paths()) + 3
    assert shipped[-3:] == list(banks.values())


def test_metadata_licences_and_sources(banks):
    assert banks[CSF].title == "NIST Cybersecurity Framework 2.0"
    assert banks[CSF].source == "NIST CSWP 29 (CSF 2.0), OSCAL catalog"
    assert banks[SP800_53].source == "NIST SP 800-53 Rev. 5, LOW baseline (OSCAL)"
    assert banks[CSF].licence == banks[SP800_53].licence == "Public domain (US government work)"
    assert banks[ASVS].source == "OWASP ASVS 5.0.0, OWASP Foundation"
    assert banks[ASVS].licence == "CC BY-SA 4.0"
    assert "OWASP Foundation, CC BY-SA 4.0" in banks[ASVS].description
    # v2 of the OSCAL banks: sort-id order, whole guidance and examples, objectives in the help
    assert [b.version for b in banks.values()] == [2, 2, 1]


def test_question_keys_come_from_control_ids(banks):
    assert {"gv.oc-01", "rc.rp-06"} <= keys(banks[CSF])
    assert {"ac-2", "ia-2", "ia-2.1", "sr-11.1"} <= keys(banks[SP800_53])
    assert {"v1.2.1", "v6.2.1"} <= keys(banks[ASVS])
    assert [s.key for s in banks[CSF].sections] == ["gv", "id", "pr", "de", "rs", "rc"]
    assert banks[CSF].section("id").title == "IDENTIFY (ID)"
    assert banks[ASVS].section("v1").title == "V1 Encoding and Sanitization"


def test_withdrawn_and_container_controls_never_become_questions(banks):
    csf = keys(banks[CSF])
    withdrawn = {
        "id.am-06",
        "id.be-01",
        "id.gv-01",
        "pr.ac-01",
        "pr.ip-12",
        "pr.ds-05",
        "pr.at-03",
        "de.dp-01",
        "de.cm-04",
        "rs.co-01",
        "rs.an-01",
        "rc.co-01",
    }
    assert not withdrawn & csf
    assert not {"gv.oc", "id.am", "pr.aa"} & csf  # categories only group subcategories


def test_csf_rates_maturity_on_the_four_tiers(banks):
    for question in banks[CSF].questions:
        assert question.type == "maturity"
        assert [(o.key, o.label) for o in question.options] == [
            ("partial", "Partial"),
            ("risk-informed", "Risk Informed"),
            ("repeatable", "Repeatable"),
            ("adaptive", "Adaptive"),
        ]
        assert [o.score for o in question.options] == pytest.approx([0, 1 / 3, 2 / 3, 1])


def test_question_text_and_help(banks):
    gv = banks[CSF].question("gv.oc-01")
    assert gv.text == (
        "The organizational mission is understood and informs cybersecurity risk management"
    )
    assert gv.help.startswith("GV.OC-01: Organizational Context\n\nExamples:\n- Share")
    ac2 = banks[SP800_53].question("ac-2")
    assert ac2.text.startswith("a. Define and document the types of accounts")
    assert "\nd. Specify:\n1. Authorized users of the system;" in ac2.text
    assert "[Assignment: organization-defined personnel or roles]" in ac2.text
    assert ac2.help.startswith(
        "AC-2: Account Management\n\nExamples of system account types include individual"
    )
    assert "\n\nObjectives:\n- AC-02a.[01] account types allowed for use" in ac2.help
    ac1 = banks[SP800_53].question("ac-1")
    assert "[Selection (one or more): organization-level; mission/business" in ac1.text
    assert "organization-defined organization-defined" not in ac1.text
    assert (
        banks[SP800_53]
        .question("ia-2.1")
        .help.startswith(
            "IA-2(1): Identification and Authentication (Organizational Users) | "
            "Multi-factor Authentication to Privileged Accounts\n\nMulti-factor authentication"
        )
    )
    assert not any("{{" in q.text for q in banks[SP800_53].questions)
    v121 = banks[ASVS].question("v1.2.1")
    assert v121.text.startswith("Verify that output encoding for an HTTP response")
    assert (v121.help, v121.type, v121.allow_na) == (
        "Section: Injection Prevention",
        "yes_no_partial",
        True,
    )


@pytest.mark.parametrize("key", [f.key for f in SHIPPED])
def test_round_trip_through_yaml(banks, key):
    bank = banks[key]
    assert load_bank_text(dump_bank(bank), source_name=f"{key}.yaml") == bank


def test_asvs_levels_are_cumulative():
    text = ASVS_FILE.read_text(encoding="utf-8")
    levels = [
        asvs_bank(
            text, level=n, key=f"asvs-l{n}", version=1, title=f"L{n}", source_name=ASVS_FILE.name
        )
        for n in (1, 2, 3)
    ]
    counts = [len(b.questions) for b in levels]
    assert counts[0] < counts[1] < counts[2]
    assert counts == [70, 253, 345]
    assert keys(levels[0]) < keys(levels[1]) < keys(levels[2])


# --------------------------------------------------------------------------- OSCAL, generic

NS = "http://csrc.nist.gov/ns/oscal/1.0"
SMALL_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<catalog xmlns="{NS}" uuid="00000000-0000-4000-8000-000000000000">
  <metadata><title>Small   Catalog</title></metadata>
  <group id="xx"><title>Example Family</title>
    <control id="XX-1"><title>First</title>
      <param id="xx-1_prm_1"><label>frequency</label></param>
      <param id="xx-1_prm_2"><select how-many="one-or-more"><choice>now</choice>
        <choice>later</choice></select></param>
      <prop name="label" value="XX-1"/>
      <part id="xx-1_smt" name="statement">
        <part id="xx-1_smt.a" name="item"><prop name="label" value="a."/>
          <p>Review <em>logs</em> <insert type="param" id-ref="xx-1_prm_1"/>;</p></part>
        <part id="xx-1_smt.b" name="item"><prop name="label" value="b."/>
          <p>Act <insert type="param" id-ref="xx-1_prm_2"/>.</p></part>
      </part>
      <part id="xx-1_gdn" name="guidance"><p>Short guidance.</p></part>
      <control id="XX-1.1"><title>Enhancement</title>
        <part id="xx-1.1_smt" name="statement"><p>Also this.</p></part></control>
      <control id="XX-1.2"><title>Old</title><prop name="status" value="withdrawn"/></control>
    </control>
    <control id="XX-2"><title>Only a title</title><prop name="status" value="Withdrawn"/></control>
    <control id="XX 3"><title>Title fallback</title></control>
  </group>
</catalog>""".encode()


def _part(pid, name, prose=None, label=None, parts=None):
    part = {"id": pid, "name": name}
    if label:
        part["props"] = [{"name": "label", "value": label}]
    if prose:
        part["prose"] = prose
    if parts:
        part["parts"] = parts
    return part


WITHDRAWN = [{"name": "status", "value": "withdrawn"}]
SMALL_JSON = json.dumps(
    {
        "catalog": {
            "uuid": "00000000-0000-4000-8000-000000000000",
            "metadata": {"title": "Small Catalog"},
            "groups": [
                {
                    "id": "xx",
                    "title": "Example Family",
                    "controls": [
                        {
                            "id": "XX-1",
                            "title": "First",
                            "props": [{"name": "label", "value": "XX-1"}],
                            "params": [
                                {"id": "xx-1_prm_1", "label": "frequency"},
                                {
                                    "id": "xx-1_prm_2",
                                    "select": {
                                        "how-many": "one-or-more",
                                        "choice": ["now", "later"],
                                    },
                                },
                            ],
                            "parts": [
                                _part(
                                    "xx-1_smt",
                                    "statement",
                                    parts=[
                                        _part(
                                            "a",
                                            "item",
                                            "Review logs {{ insert: param, xx-1_prm_1 }} ;",
                                            "a.",
                                        ),
                                        _part(
                                            "b",
                                            "item",
                                            "Act {{ insert: param, xx-1_prm_2 }}.",
                                            "b.",
                                        ),
                                    ],
                                ),
                                _part("g", "guidance", "Short guidance."),
                            ],
                            "controls": [
                                {
                                    "id": "XX-1.1",
                                    "title": "Enhancement",
                                    "parts": [_part("s", "statement", "Also this.")],
                                },
                                {"id": "XX-1.2", "title": "Old", "props": WITHDRAWN},
                            ],
                        },
                        {
                            "id": "XX-2",
                            "title": "Only a title",
                            "props": [{"name": "status", "value": "Withdrawn"}],
                        },
                        {"id": "XX 3", "title": "Title fallback"},
                    ],
                }
            ],
        }
    }
)


def small_bank(catalog):
    return oscal_bank(
        catalog,
        key="small",
        version=1,
        title="Small",
        source=None,
        licence=None,
        source_name="small",
        rules=Rules(question_type="yes_no"),
    )


def catalog_of(name: str, data: bytes):
    """A file normalised as the importer reads it."""
    return normalise_catalog(read_document(name, data, data.decode()).body, source_name=name)


def test_json_and_xml_normalise_alike():
    from_xml = catalog_of("small.xml", SMALL_XML)
    from_json = catalog_of("small.json", SMALL_JSON.encode())
    assert from_xml == from_json
    bank = small_bank(from_xml)
    assert [q.key for q in bank.questions] == ["xx-1", "xx-1.1", "xx-3"]
    first = bank.question("xx-1")
    assert first.text == (
        "a. Review logs [Assignment: organization-defined frequency];\n"
        "b. Act [Selection (one or more): now; later]."
    )
    assert first.help == "XX-1: First\n\nShort guidance."
    assert bank.question("xx-1.1").help == "XX-1.1: First | Enhancement"
    assert bank.question("xx-3").text == "Title fallback"  # no statement: the title is asked
    assert bank.sections[0].title == "Example Family (XX)"


def test_normalise_key_is_deterministic_and_valid():
    assert normalise_key("GV.OC-01") == "gv.oc-01"
    assert normalise_key("AC-2(1)") == "ac-2-1"
    long_a, long_b = normalise_key("A" * 80 + "1"), normalise_key("A" * 80 + "2")
    assert long_a != long_b and len(long_a) <= 64
    for raw in ("x", "ÄÖ", "  ", "AC 2 (1)", "A" * 80 + "1"):
        assert KEY_PATTERN.match(normalise_key(raw))
        assert normalise_key(raw) == normalise_key(raw)


# --------------------------------------------------------------------------- uploads


def test_upload_derives_key_and_title(banks):
    csf = next(f for f in SHIPPED if f.key == CSF).path
    # The uploaded CSF catalog is recognised by its title: the shipped bank, 106 questions (not
    # 185 with the unmarked withdrawn subcategories, as before).
    assert load_bank_source(csf, csf.read_bytes()) == banks[CSF]
    asvs = load_bank_source(ASVS_FILE.name, ASVS_FILE.read_bytes(), level=2, key="my-asvs")
    assert (asvs.key, asvs.licence, len(asvs.questions)) == ("my-asvs", "CC BY-SA 4.0", 253)
    small = load_bank_source("upload.txt", SMALL_JSON.encode(), fmt="oscal", title="Mine")
    # The key comes from the catalog's own title, never from the file's name.
    assert (small.key, small.title, small.source) == (
        "small-catalog",
        "Mine",
        "OSCAL catalog no version",
    )
    baseline = shipped_bank_paths()[0]
    assert load_bank_source(baseline, baseline.read_bytes()).key == shipped_banks()[0].key


def test_billion_laughs_is_refused_quickly():
    entities = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 12))
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE catalog [<!ENTITY l0 "lol">{entities}]>'
        "<catalog>&l11;</catalog>"
    ).encode()
    started = time.perf_counter()
    with pytest.raises(ValidationError, match=r"bomb\.xml: XML with a DOCTYPE .* 'XML bomb'"):
        load_bank_source("bomb.xml", bomb)
    assert time.perf_counter() - started < 0.5


CSV_HEADER = "chapter_id,chapter_name,section_id,section_name,req_id,req_description,L\n"
CSV_ROW = "V1,Encoding,V1.1,Arch,{id},Verify {id}.,{level}\n"


def csv_bytes(*rows: tuple[str, str]) -> bytes:
    return (CSV_HEADER + "".join(CSV_ROW.format(id=i, level=lv) for i, lv in rows)).encode()


def catalog_json(groups) -> bytes:
    return json.dumps({"catalog": {"metadata": {"title": "T"}, "groups": groups}}).encode()


PARAM_BOMB = [{"id": "p0", "label": "lol"}] + [
    {"id": f"p{i}", "label": f"{{{{ insert: param, p{i - 1} }}}} " * 10} for i in range(1, 30)
]
GROUP_GV = {
    "id": "gv",
    "title": "Govern",
    "controls": [
        {"id": "gv-1", "title": "One"},
        {"id": "gv-2", "title": "Two"},
        {"title": "Three"},
    ],
}
BAD_INPUTS = [
    (
        "json-not-catalog",
        "p.json",
        b'{"bank": {}}',
        {},
        "p.json: not an OSCAL catalog or profile (expected a top-level 'catalog' or 'profile'",
    ),
    ("json-array", "p.json", b"[1, 2]", {}, "p.json: not an OSCAL catalog or profile"),
    ("json-syntax", "c.json", b'{"catalog": ', {}, "c.json: not valid JSON (line 1"),
    (
        "xml-not-catalog",
        "p.xml",
        f'<system-security-plan xmlns="{NS}"/>'.encode(),
        {},
        (
            "p.xml: not an OSCAL catalog or profile",
            "root element is <system-security-plan>, expected <catalog> or <profile>",
        ),
    ),
    (
        "xml-malformed",
        "c.xml",
        b"<catalog>\n<group></catalog>",
        {},
        "c.xml: not well-formed XML (line 2",
    ),
    (
        "xml-external-entity",
        "x.xml",
        b'<?xml version="1.0"?><!DOCTYPE catalog [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<catalog>&xxe;</catalog>",
        {},
        "x.xml: XML with a DOCTYPE or entity declarations",
    ),
    (
        "xml-external-dtd",
        "d.xml",
        b'<!DOCTYPE catalog SYSTEM "http://example.invalid/x.dtd"><catalog/>',
        {},
        "d.xml: XML with a DOCTYPE",
    ),
    ("no-groups", "c.json", catalog_json([]), {}, "c.json: catalog: no groups and no controls"),
    (
        "groups-not-list",
        "c.json",
        catalog_json("gv"),
        {},
        "c.json: catalog: groups must be a list of objects",
    ),
    (
        "group-without-title",
        "c.json",
        catalog_json([{"id": "g"}]),
        {},
        "c.json: group 1: missing title",
    ),
    (
        "control-without-id",
        "csf.json",
        catalog_json([GROUP_GV]),
        {},
        "csf.json: group 'gv' control 3: missing id",
    ),
    (
        "control-without-title",
        "c.json",
        catalog_json([{"id": "gv", "title": "G", "controls": [{"id": "gv-1"}]}]),
        {},
        "c.json: control 'gv-1': missing title",
    ),
    (
        "all-withdrawn",
        "c.json",
        catalog_json(
            [
                {
                    "id": "gv",
                    "title": "G",
                    "controls": [
                        {
                            "id": "gv-1",
                            "title": "T",
                            "props": [{"name": "status", "value": "withdrawn"}],
                        }
                    ],
                }
            ]
        ),
        {},
        "c.json: the catalog has no controls to import",
    ),
    (
        "json-parameter-bomb",
        "b.json",
        catalog_json(
            [
                {
                    "id": "g",
                    "title": "G",
                    "controls": [
                        {
                            "id": "c-1",
                            "title": "C",
                            "params": PARAM_BOMB,
                            "parts": [
                                {"name": "statement", "prose": "Do {{ insert: param, p29 }}"}
                            ],
                        }
                    ],
                }
            ]
        ),
        {},
        "b.json: control 'c-1': parameter 'p2' expands to more than 2000 characters",
    ),
    (
        "bad-key-given",
        "c.json",
        SMALL_JSON.encode(),
        {"key": "Not A Key"},
        "c.json: bank: key 'Not A Key' must match",
    ),
    (
        "asvs-missing-columns",
        "a.csv",
        b"chapter_id,req_id\nV1,V1.1.1\n",
        {},
        "a.csv: missing CSV column(s): chapter_name, section_name, req_description, L",
    ),
    (
        "asvs-bad-level-in-row",
        "a.csv",
        csv_bytes(("V1.1.1", "1"), ("V1.1.2", "high")),
        {},
        "a.csv: line 3: level (column L) must be 1, 2 or 3, got 'high'",
    ),
    (
        "asvs-level-0",
        "a.csv",
        csv_bytes(("V1.1.1", "1")),
        {"level": 0},
        "a.csv: ASVS level must be 1, 2 or 3, got 0",
    ),
    (
        "asvs-level-4",
        "a.csv",
        csv_bytes(("V1.1.1", "1")),
        {"level": 4},
        "a.csv: ASVS level must be 1, 2 or 3, got 4",
    ),
    (
        "asvs-duplicate-id",
        "a.csv",
        csv_bytes(("V1.1.1", "1"), ("V1.1.2", "2"), ("V1.1.1", "3")),
        {},
        "a.csv: line 4: duplicate requirement id 'V1.1.1' (first on line 2)",
    ),
    (
        "asvs-missing-id",
        "a.csv",
        csv_bytes(("V1.1.1", "1"), ("", "1")),
        {},
        "a.csv: line 3: missing req_id",
    ),
    (
        "asvs-nothing-at-level",
        "a.csv",
        csv_bytes(("V1.1.1", "3")),
        {},
        "a.csv: no requirements at level 1 or below",
    ),
    (
        "level-for-oscal",
        "c.json",
        SMALL_JSON.encode(),
        {"level": 2},
        "c.json: a level applies only to ASVS files",
    ),
    ("title-for-yaml", "b.yaml", b"key: b\n", {"title": "T"}, "b.yaml: a YAML bank sets its own"),
    ("empty-csv", "a.csv", b"", {}, "a.csv: the file is empty"),
    ("blank-json", "c.json", b"  \n", {}, "c.json: the file is empty"),
    ("header-only-csv", "a.csv", CSV_HEADER.encode(), {}, "a.csv: no requirements at level 1"),
    (
        "non-utf8",
        "c.json",
        b'{"catalog": "\xff\xfe"}',
        {},
        "c.json: the file is not UTF-8 text (invalid byte at offset 13)",
    ),
    ("unknown-extension", "bank.pdf", b"%PDF", {}, "bank.pdf: cannot tell the format"),
    ("unknown-format", "bank.json", b"{}", {"fmt": "pdf"}, "bank.json: unknown format 'pdf'"),
    ("bad-yaml", "b.yaml", b"key: [", {}, "b.yaml: line 1, column 7: invalid YAML"),
]


@pytest.mark.parametrize(
    ("name", "data", "kwargs", "message"),
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_bad_inputs_are_refused_with_a_helpful_message(name, data, kwargs, message):
    with pytest.raises(ValidationError) as caught:
        load_bank_source(name, data, **kwargs)
    for fragment in (message,) if isinstance(message, str) else message:
        assert fragment in str(caught.value)


def test_files_over_the_size_cap_are_refused():
    with pytest.raises(ValidationError, match=r"big\.json: file is larger than 20 MB"):
        load_bank_source("big.json", b" " * (MAX_SOURCE_BYTES + 1))
