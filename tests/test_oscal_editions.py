"""OSCAL catalogs in every edition and shape, read as people read them (no database)."""

from __future__ import annotations

import json

import pytest

from core.banks.frameworks import SHIPPED, framework_bank, load_bank_source, read_source
from core.banks.oscal_yaml import load_oscal_yaml
from core.errors import ValidationError
from tests.oscal_data import (
    CSF,
    FEDRAMP,
    FULL,
    ISO,
    MODERATE_XML,
    MODERATE_YAML,
    oscal_bytes,
    oscal_json,
)

NS = "http://csrc.nist.gov/ns/oscal/1.0"


def catalog(*groups, controls=None, metadata=None, **extra) -> bytes:
    body = {"uuid": "5b2b0c5e-0d3c-4bfe-9c66-0a1e9f6b2c11", "metadata": metadata or {"title": "T"}}
    if groups:
        body["groups"] = list(groups)
    if controls:
        body["controls"] = controls
    return json.dumps({"catalog": body | extra}).encode()


def control(cid, text=None, *, cls=None, title=None, controls=(), parts=(), props=(), params=()):
    node = {"id": cid, "title": title or f"Title of {cid}"}
    if cls:
        node["class"] = cls
    if props:
        node["props"] = [{"name": n, "value": v} for n, v in props]
    if params:
        node["params"] = list(params)
    all_parts = ([{"name": "statement", "prose": text}] if text else []) + list(parts)
    if all_parts:
        node["parts"] = all_parts
    if controls:
        node["controls"] = list(controls)
    return node


def group(gid, title, *controls, groups=(), props=()):
    node = {"title": title, "controls": list(controls)}
    if gid:
        node["id"] = gid
    if props:
        node["props"] = [{"name": n, "value": v} for n, v in props]
    if groups:
        node["groups"] = list(groups)
    return node


def bank_of(data: bytes, name: str = "c.json", **options):
    return load_bank_source(name, data, **options)


# --------------------------------------------------------------------------- editions


@pytest.fixture(scope="module")
def moderate():
    return {
        ext: bank_of(oscal_bytes(n), n)
        for ext, n in (("xml", MODERATE_XML), ("yaml", MODERATE_YAML))
    }


def test_yaml_edition_is_read_as_oscal_and_gives_the_xml_editions_bank(moderate):
    assert moderate["yaml"] == moderate["xml"]
    bank = moderate["yaml"]
    assert (len(bank.questions), len(bank.sections)) == (287, 18)
    assert bank.title == "NIST Special Publication 800-53 Revision 5.1.1 MODERATE IMPACT BASELINE"
    # Known by its title without the release number, not by the file's name.
    assert bank.key.startswith("nist-special-publication-800-53-revision-moderate-impac")


def test_json_minified_json_and_a_renamed_copy_give_the_same_bank(moderate):
    data = oscal_json(MODERATE_YAML)  # the YAML edition's data is the JSON edition's
    pretty = json.dumps(data, indent=2).encode()
    minified = json.dumps(data, separators=(",", ":")).encode()
    assert bank_of(pretty, "moderate.json") == moderate["xml"]
    assert bank_of(minified, "copy-of-it.json") == moderate["xml"]
    assert bank_of(oscal_bytes(MODERATE_YAML), "renamed.yml") == moderate["xml"]


def test_yaml_reader_keeps_oscal_tokens_as_text():
    data = load_oscal_yaml(
        "profile:\n  with-child-controls: yes\n  version: 1.10\n  n: 3\n  on: true\n  x: ~\n",
        source_name="p.yaml",
    )
    assert data == {
        "profile": {
            "with-child-controls": "yes",
            "version": "1.10",
            "n": "3",
            "on": True,
            "x": None,
        }
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "catalog:\n  a: &x [1]\n  b: *x\n",
            "p.yaml: line 2, column 6: YAML anchors and aliases are refused",
        ),
        ("catalog:\n  a: 1\n  a: 2\n", "p.yaml: line 3, column 3: duplicate key 'a'"),
        (
            "catalog: !!python/name:os.system x\n",
            "YAML tag 'tag:yaml.org,2002:python/name:os.system'",
        ),
        ("catalog: {}\n---\ncatalog: {}\n", "p.yaml: line 2, column 1: several YAML documents"),
        ("catalog:\n  - [a\n", "p.yaml: line 3, column 1: invalid YAML"),
    ],
)
def test_yaml_features_oscal_never_uses_are_refused(text, message):
    with pytest.raises(ValidationError) as caught:
        load_oscal_yaml(text, source_name="p.yaml")
    assert message in str(caught.value)


# --------------------------------------------------------------------------- text as people read it


@pytest.fixture(scope="module")
def full():
    return bank_of(oscal_bytes(FULL), FULL)


def test_full_catalog_prose_reads_like_the_xml_edition(full):
    # 1,189 controls, 182 withdrawn: 1,007 questions in the 20 families.
    assert (len(full.questions), len(full.sections)) == (1007, 20)
    texts = [t for q in full.questions for t in (q.text, q.help)]
    assert not [t for t in texts if "](#" in t or "{{" in t or "\\" in t]
    # JSON: "... is addressed by [AC-11](#ac-11)."; the XML edition reads "... by AC-11."
    assert full.question("ac-2.5").help.endswith("inactivity logout is addressed by AC-11.")


def test_guidance_is_kept_whole(full):
    ra5 = full.question("ra-5").help
    assert len(ra5) > 3000  # was dropped whole above 800 characters
    assert ra5.endswith("to evaluate security vulnerabilities from privileged vantage points.")
    assert "\n\nOrganizations may run public and private bounties" not in ra5  # one paragraph


def test_parameters_in_every_syntax_are_filled_in():
    params = [
        {"id": "p1", "label": "frequency"},
        {"id": "p2", "usage": "the people who review"},
        {"id": "p3", "select": {"choice": ["daily", "{{ insert: param, p1 }}"]}},
        {"id": "p4", "label": "time period", "values": ["30 days"]},
        {"id": "p5", "label": "organization-defined events"},
        {"id": "p6", "label": "period", "constraints": [{"description": "at least every 3 years"}]},
    ]
    prose = (
        "Review {{ insert: param, p1 }} by {{ p2 }} [CM-2](#cm-2) {{insert:param,p3}}, "
        "within {{ p4 }} after {{ p5 }} and {{ insert: param, p6 }} ."
    )
    bank = bank_of(catalog(group("g", "G", control("c-1", prose, params=params))))
    assert bank.question("c-1").text == (
        "Review [Assignment: organization-defined frequency] by [Assignment: organization-defined"
        " the people who review] CM-2 [Selection: daily; [Assignment: organization-defined "
        "frequency]], within 30 days after [Assignment: organization-defined events] and "
        "[Assignment: period; at least every 3 years]."
    )


def test_xml_inserts_in_both_forms_and_markup_read_as_text():
    xml = f"""<catalog xmlns="{NS}" uuid="u"><metadata><title>X</title></metadata>
      <group id="g"><title>G</title><control id="c-1"><title>C</title>
        <param id="p1"><label>frequency</label></param>
        <part name="statement"><p>Check <insert type="param" id-ref="p1"/> and
          <insert param-id="p1"/>; see <a href="#cm-2">CM-2</a>, <q>known good</q>,
          <em>literal *stars*</em> [kept].</p></part></control></group></catalog>""".encode()
    assert bank_of(xml, "c.xml").question("c-1").text == (
        "Check [Assignment: organization-defined frequency] and [Assignment: organization-defined"
        ' frequency]; see CM-2, "known good", literal *stars* [kept].'
    )


def test_fedramp_constraints_and_requirement_parts():
    bank = bank_of(oscal_bytes(FEDRAMP), FEDRAMP)
    ac1 = bank.question("ac-1").text
    assert "1. Policy [Assignment: frequency; at least every 3 years] and following" in ac1
    assert "2. Procedures [Assignment: frequency; at least annually]" in ac1
    assert bank.question("ac-7").text.endswith(
        "AC-7 Additional FedRAMP Requirements and Guidance\n"
        "Requirement: In alignment with NIST SP 800-63B"
    )
    ia11 = bank.question("ia-11")  # its FedRAMP guidance is help, not part of the question
    assert ia11.text == (
        "Require users to re-authenticate when "
        "[Assignment: organization-defined circumstances or situations]."
    )
    assert "\n\nGuidance: The fixed time period cannot exceed the limits set in SP 800-63." in (
        ia11.help
    )
    assert "\n\nObjectives:\n- users are required to re-authenticate when" in ia11.help


def test_labels_are_not_repeated():
    objective = {
        "name": "assessment-objective",
        "props": [{"name": "label", "value": "XX-01", "class": "sp800-53a"}],
        "prose": "the thing is done;",
        "parts": [
            {"name": "assessment-objective", "props": [{"name": "label", "value": "XX-01a."}]},
            {
                "name": "assessment-objective",
                "props": [{"name": "label", "value": "XX-01b."}],
                "prose": "the other thing is done.",
            },
        ],
    }
    item = {"name": "item", "props": [{"name": "label", "value": "a."}], "prose": "a. Do it."}
    body = control(
        "xx-1",
        title="XX-1 Doing Things",
        props=[("label", "XX-1")],
        parts=[{"name": "statement", "parts": [item]}, objective],
    )
    question = bank_of(catalog(group("xx", "Things", body))).question("xx-1")
    assert question.text == "a. Do it."
    assert question.help == (
        "XX-1: Doing Things\n\nObjectives:\n- the thing is done;\n- XX-01b. the other thing is done."
    )


def test_licence_line_comes_from_the_metadata():
    metadata = {"title": "T", "props": [{"name": "license", "value": "CC BY 4.0"}]}
    assert bank_of(catalog(group("g", "G", control("c-1", "x")), metadata=metadata)).licence == (
        "CC BY 4.0"
    )
    linked = {"title": "T", "links": [{"href": "https://x.invalid/l", "rel": "license"}]}
    assert bank_of(catalog(group("g", "G", control("c-1", "x")), metadata=linked)).licence == (
        "https://x.invalid/l"
    )
    assert bank_of(catalog(group("g", "G", control("c-1", "x")))).licence is None


# --------------------------------------------------------------------------- shapes


def test_sections_follow_sort_id_with_the_files_label():
    groups = [
        group(
            "c_a",
            "Certification",
            control("ca-1", "x"),
            props=[("label", "C&A"), ("sort-id", "02")],
        ),
        group(
            "a_a",
            "Assessment and Authorization",
            control("aa-1", "y"),
            props=[("label", "A&A"), ("sort-id", "01")],
        ),
    ]
    bank = bank_of(catalog(*groups))
    assert [(s.key, s.title) for s in bank.sections] == [
        ("a_a", "Assessment and Authorization (A&A)"),
        ("c_a", "Certification (C&A)"),
    ]


def test_csf_categories_follow_the_frameworks_own_order():
    csf = framework_bank(next(f for f in SHIPPED if f.key == "nist-csf-2.0"))
    order = list(dict.fromkeys(q.key.split("-")[0] for q in csf.section("gv").questions))
    # sort-id order, not the file's alphabetical GV.OC, GV.OV, GV.PO, GV.RM, GV.RR, GV.SC
    assert order == ["gv.oc", "gv.rm", "gv.rr", "gv.po", "gv.ov", "gv.sc"]
    assert csf.sections[0].title == "GOVERN (GV)"  # the file's label, shown once


def test_groups_without_an_id_and_controls_directly_under_the_catalog():
    data = catalog(
        group(None, "Governance", control("gov-1", "Have a policy.")),
        group(None, "Governance", control("gov-2", "Review it.")),
        controls=[
            control(
                "ops",
                title="Operations",
                controls=[control("ops-1", "Patch."), control("ops-2", "Log.")],
            ),
            control("lone", "Stand alone."),
        ],
    )
    bank = bank_of(data)
    assert [(s.key, s.title, [q.key for q in s.questions]) for s in bank.sections] == [
        ("governance", "Governance", ["gov-1"]),
        ("governance-2", "Governance", ["gov-2"]),
        ("ops", "Operations (ops)", ["ops-1", "ops-2"]),  # a container: no question of its own
        ("lone", "Title of lone", ["lone"]),
    ]
    assert bank.question("ops-2").help == "ops-2: Operations | Title of ops-2"


def test_parts_controls_and_groups_nested_deep():
    deepest = control("c-5", "Deepest.")
    for depth in range(4, 0, -1):
        deepest = control(f"c-{depth}", f"Level {depth}.", controls=[deepest])
    part = {"name": "item", "props": [{"name": "label", "value": "6."}], "prose": "six"}
    for depth in range(5, 0, -1):
        part = {
            "name": "item",
            "props": [{"name": "label", "value": f"{depth}."}],
            "prose": f"p{depth}",
            "parts": [part],
        }
    parts = [{"name": "statement", "parts": [part]}]
    inner = group("g3", "Three", deepest, control("p-1", parts=parts))
    bank = bank_of(catalog(group("g1", "One", groups=[group("g2", "Two", groups=[inner])])))
    assert [q.key for q in bank.questions] == ["c-1", "c-2", "c-3", "c-4", "c-5", "p-1"]
    assert bank.question("p-1").text == "1. p1\n2. p2\n3. p3\n4. p4\n5. p5\n6. six"
    assert bank.question("c-5").help.startswith("c-5: Title of c-1 | Title of c-2 |")


def test_a_requirement_holding_one_security_requirement_is_one_question():
    objective = {"name": "assessment-objective", "prose": "patches are applied in time"}
    guidance = {"name": "guidance", "prose": "Why patching matters."}
    inner = control(
        "req-1.1",
        "Apply security patches within 30 days.",
        cls="security-requirement",
        title="Patching",
        parts=[objective],
    )
    req = control(
        "req-1", cls="requirement", title="Patch management", parts=[guidance], controls=[inner]
    )
    two = control(
        "req-2",
        cls="requirement",
        title="Two",
        controls=[
            control("req-2.1", "First.", cls="security-requirement"),
            control("req-2.2", "Second.", cls="security-requirement"),
        ],
    )
    bank = bank_of(catalog(group("ops", "Operations", req, two)))
    assert [q.key for q in bank.questions] == ["req-1", "req-2.1", "req-2.2"]
    question = bank.question("req-1")
    assert question.text == "Apply security patches within 30 days."
    assert question.help == (
        "req-1: Patch management\n\nWhy patching matters.\n\nObjectives:\n"
        "- patches are applied in time"
    )


def test_mixed_classes_are_listed_and_control_class_picks_the_questions():
    mixed = control(
        "ctl-1",
        "Log security events.",
        cls="control",
        controls=[
            control("q-1", "Do you log sign-ins?", cls="question"),
            control("q-2", "Do you keep logs a year?", cls="question"),
        ],
    )
    data = catalog(group("log", "Logging", mixed, control("ctl-2", "Alert.", cls="control")))
    every = read_source("c.json", data)
    assert [q.key for q in every.bank.questions] == ["ctl-1", "q-1", "q-2", "ctl-2"]
    assert "control classes: control (2), question (2)" in every.notes
    questions = read_source("c.json", data, control_classes=["question"])
    assert [q.key for q in questions.bank.questions] == ["q-1", "q-2"]
    assert questions.bank.question("q-1").help == "q-1: Title of ctl-1 | Title of q-1"


def test_where_keeps_the_controls_of_a_baseline_and_the_dry_run_lists_the_values():
    every = read_source(FEDRAMP, oscal_bytes(FEDRAMP))
    assert (
        "properties for --where: CORE = true (34); contributes-to-assurance = true (74); "
        "implementation-level = organization (127), system (42)"
    ) in every.notes
    system = read_source(FEDRAMP, oscal_bytes(FEDRAMP), where=["implementation-level=system"])
    assert len(system.bank.questions) == 42
    assert system.bank.key == "fedramp-rev-5-low-baseline-implementation-level-system"
    assert system.bank.title == "FedRAMP Rev 5 Low Baseline (implementation-level=system)"
    both = ["implementation-level=system", "CORE=true"]  # different names: both must hold
    assert len(read_source(FEDRAMP, oscal_bytes(FEDRAMP), where=both).bank.questions) == 21
    either = ["implementation-level=system", "implementation-level=organization"]
    assert len(read_source(FEDRAMP, oscal_bytes(FEDRAMP), where=either).bank.questions) == 156


def test_iso_annex_a_with_non_token_ids():
    bank = bank_of(oscal_bytes(ISO), ISO)
    assert [(s.key, len(s.questions)) for s in bank.sections] == [
        ("a5", 37),
        ("a6", 8),
        ("a7", 14),
        ("a8", 34),
    ]
    assert bank.question("5.1").help.startswith("5.1: Policies for information security\n\n")


def test_csf_upload_is_the_shipped_bank():
    shipped = framework_bank(next(f for f in SHIPPED if f.key == "nist-csf-2.0"))
    uploaded = read_source("renamed.xml", oscal_bytes(CSF))
    assert uploaded.bank == shipped
    assert len(uploaded.bank.questions) == 106
    assert uploaded.notes[0] == "recognised as the shipped framework 'nist-csf-2.0'"


def test_a_class_chosen_by_control_class_is_asked_even_where_it_would_only_group():
    category = control(
        "cat-1",
        "Keep an inventory.",
        cls="category",
        controls=[control("sub-1", "Of hardware.", cls="subcategory")],
    )
    data = catalog(group("id", "Identify", category))
    assert [q.key for q in bank_of(data).questions] == ["sub-1"]  # categories group by default
    chosen = read_source("c.json", data, control_classes=["category"]).bank
    assert [q.key for q in chosen.questions] == ["cat-1"]
