"""OSCAL profiles resolved against their catalog into one bank (no database)."""

from __future__ import annotations

import copy
import json

import pytest

from core.banks.frameworks import read_source
from core.errors import ValidationError
from tests.oscal_data import FULL, MODERATE_PROFILE, MODERATE_XML, oscal_bytes, oscal_json

NS = "http://csrc.nist.gov/ns/oscal/1.0"


def resolved(profile: dict | bytes, name: str = "profile.json", catalog: bytes | None = None):
    data = profile if isinstance(profile, bytes) else json.dumps(profile).encode()
    return read_source(name, data, catalog=(FULL, catalog or oscal_bytes(FULL))).bank


@pytest.fixture(scope="module")
def moderate():
    return resolved(oscal_bytes(MODERATE_PROFILE), MODERATE_PROFILE)


def test_moderate_profile_resolves_to_nists_287_controls(moderate):
    nist = read_source(MODERATE_XML, oscal_bytes(MODERATE_XML)).bank  # resolved by NIST
    assert len(moderate.questions) == 287
    assert {q.key for q in moderate.questions} == {q.key for q in nist.questions}
    assert [s.key for s in moderate.sections] == [s.key for s in nist.sections]
    # The profile's identity, the catalog's text: one bank with NIST's resolved edition.
    assert (moderate.key, moderate.title) == (nist.key, nist.title)
    assert (
        moderate.source == "OSCAL profile version 5.1.1+u4, resolved against catalog version 5.0.1"
    )
    assert moderate.question("ac-2.1").help.startswith(
        "AC-2(1): Account Management | Automated System Account Management"
    )


def test_parameters_constraints_alterations_exclusions_and_withdrawn_controls():
    profile = oscal_json(MODERATE_PROFILE)
    body = profile["profile"]
    include = body["imports"][0]["include-controls"][0]
    include["with-ids"] += ["ac-2.10", "ac-13"]  # withdrawn in 5.0.1: dropped all the same
    body["imports"][0]["include-controls"].append({"matching": [{"pattern": "sr-11.*"}]})
    body["imports"][0]["exclude-controls"] = [{"with-ids": ["ac-3"]}]
    body["modify"] = {
        "set-parameters": [
            {"param-id": "ac-1_prm_4", "values": ["every year"]},
            {"param-id": "ac-1_prm_6", "constraints": [{"description": "at least annually"}]},
            {"param-id": "ac-1_prm_5", "label": "organization-defined triggering events"},
        ],
        "alters": [
            {
                "control-id": "ac-2",
                "removes": [{"by-name": "guidance"}],
                "adds": [
                    {
                        "by-id": "ac-2_smt",
                        "position": "ending",
                        "parts": [
                            {
                                "id": "ac-2_fr",
                                "name": "item",
                                "title": "AC-2 Additional Requirements",
                                "parts": [
                                    {
                                        "name": "item",
                                        "props": [{"name": "label", "value": "Requirement:"}],
                                        "prose": "Review privileged accounts monthly.",
                                    }
                                ],
                            }
                        ],
                    }
                ],
            }
        ],
    }
    bank = resolved(profile)
    keys = {q.key for q in bank.questions}
    assert not {"ac-2.10", "ac-13", "ac-3"} & keys
    assert "sr-11.3" in keys  # by the pattern; sr-11.1 and sr-11.2 were listed already
    assert len(bank.questions) == 287 - 1 + 1
    ac1 = bank.question("ac-1").text
    assert (
        "1. Policy every year and following [Assignment: organization-defined triggering events]"
        in ac1
    )
    assert (
        "2. Procedures [Assignment: organization-defined frequency; at least annually] and" in ac1
    )
    ac2 = bank.question("ac-2")
    assert ac2.text.endswith(
        "AC-2 Additional Requirements\nRequirement: Review privileged accounts monthly."
    )
    assert "Examples of system account types" not in ac2.help  # its guidance was removed
    # The catalog's own controls are untouched by the profile's alterations.
    plain = resolved(oscal_bytes(MODERATE_PROFILE), MODERATE_PROFILE)
    assert "Examples of system account types" in plain.question("ac-2").help


def test_child_controls_follow_their_parent_when_asked_and_move_up_when_alone():
    profile = {
        "profile": {
            "uuid": "d4b4c9a1-6f3e-4b0a-9d7e-2f1c8a5b3e10",
            "metadata": {"title": "Small baseline", "version": "1"},
            "imports": [
                {
                    "href": "#cat",
                    "include-controls": [
                        {"with-ids": ["ac-2"], "with-child-controls": "yes"},
                        {"with-ids": ["au-2.1", "au-3.1"]},  # enhancements without their parent
                    ],
                }
            ],
        }
    }
    bank = resolved(profile)
    ac = [q.key for q in bank.section("ac").questions]
    assert ac[0] == "ac-2" and "ac-2.13" in ac and "ac-2.10" not in ac  # withdrawn
    assert [q.key for q in bank.section("au").questions] == ["au-3.1"]  # au-2.1 is withdrawn
    assert bank.question("au-3.1").help.startswith("AU-3(1): Additional Audit Information")
    assert bank.key == "small-baseline"


def test_an_xml_profile_resolves_like_a_json_one():
    xml = f"""<?xml version="1.0"?>
<profile xmlns="{NS}" uuid="0c5d2b1e-3f4a-4c6b-8d9e-1a2b3c4d5e6f">
  <metadata><title>XML baseline</title><version>2</version></metadata>
  <import href="#cat">
    <include-controls with-child-controls="no"><with-id>ac-1</with-id><with-id>ac-2</with-id>
    </include-controls>
    <exclude-controls><matching pattern="ac-2*"/></exclude-controls>
  </import>
  <merge><as-is>true</as-is></merge>
  <modify>
    <set-parameter param-id="ac-1_prm_4"><value>every two years</value></set-parameter>
  </modify>
</profile>""".encode()
    bank = resolved(xml, "baseline.xml")
    assert [q.key for q in bank.questions] == ["ac-1"]
    assert "1. Policy every two years and following" in bank.question("ac-1").text
    as_json = {
        "profile": {
            "uuid": "0c5d2b1e-3f4a-4c6b-8d9e-1a2b3c4d5e6f",
            "metadata": {"title": "XML baseline", "version": "2"},
            "imports": [
                {
                    "href": "#cat",
                    "include-controls": [{"with-ids": ["ac-1", "ac-2"]}],
                    "exclude-controls": [{"matching": [{"pattern": "ac-2*"}]}],
                }
            ],
            "merge": {"as-is": True},
            "modify": {
                "set-parameters": [{"param-id": "ac-1_prm_4", "values": ["every two years"]}]
            },
        }
    }
    assert resolved(as_json) == bank


def test_a_catalog_is_left_as_it_is_by_resolution():
    catalog = oscal_json(FULL)
    before = copy.deepcopy(catalog)
    profile = oscal_json(MODERATE_PROFILE)
    profile["profile"]["modify"] = {
        "alters": [{"control-id": "ac-1", "removes": [{"by-name": "guidance"}]}]
    }
    resolved(profile, catalog=json.dumps(catalog).encode())
    assert catalog == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda p: p["imports"][0]["include-controls"][0]["with-ids"].append("zz-99"),
            "profile.json: import 1: control 'zz-99' is not in NIST_SP-800-53_rev5_catalog.json",
        ),
        (
            lambda p: p.update(modify={"set-parameters": [{"param-id": "zz-1_prm_1"}]}),
            "profile.json: set-parameter 'zz-1_prm_1' names no parameter of the catalog",
        ),
        (
            lambda p: p.update(modify={"alters": [{"control-id": "zz-9"}]}),
            "profile.json: alter names control 'zz-9', which the catalog lacks",
        ),
        (
            lambda p: p["imports"].append({"href": "other.json", "include-all": {}}),
            "profile.json: the profile imports 2 sources",
        ),
        (lambda p: p.update(imports=[]), "profile.json: the profile imports nothing"),
    ],
    ids=["unknown-control", "unknown-parameter", "unknown-alter", "two-sources", "no-import"],
)
def test_profile_mistakes_are_refused_with_the_element(change, message):
    profile = oscal_json(MODERATE_PROFILE)
    change(profile["profile"])
    with pytest.raises(ValidationError) as caught:
        resolved(profile)
    assert message in str(caught.value)
