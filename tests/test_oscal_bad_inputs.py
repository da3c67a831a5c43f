"""Bad OSCAL input: refused with one line naming the file and the element, and nothing written
(the command line on a real SQLite database with the shipped banks)."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from core import db
from core.models import AuditLog, Question, Questionnaire, Section
from tests.clirun import run
from tests.oscal_data import FULL, MODERATE_PROFILE, MODERATE_XML, MODERATE_YAML, oscal_bytes

NS = "http://csrc.nist.gov/ns/oscal/1.0"
UUID = "5b2b0c5e-0d3c-4bfe-9c66-0a1e9f6b2c11"


@pytest.fixture
def cli_url(env, sqlite_url):
    """A database with the shipped banks that the CLI is pointed at."""
    env(sqlite_url)
    return sqlite_url


def rows(url) -> tuple[int, ...]:
    with db.reading(url) as s:
        tables = (Questionnaire, Section, Question, AuditLog)
        return tuple(s.scalar(select(func.count()).select_from(t)) for t in tables)


def catalog(groups=None, controls=None, **extra) -> bytes:
    body = {"uuid": UUID, "metadata": {"title": "Broken"}, **extra}
    if groups is not None:
        body["groups"] = groups
    if controls is not None:
        body["controls"] = controls
    return json.dumps({"catalog": body}).encode()


def ctl(cid, title="T", **extra):
    return {"id": cid, "title": title, "parts": [{"name": "statement", "prose": "Do."}], **extra}


def cut(data: bytes, share: float, *, at_line: bool = False) -> bytes:
    end = int(len(data) * share)
    return data[: data.rindex(b"\n", 0, end) + 1] if at_line else data[:end]


def deep(levels: int) -> dict:
    node = ctl("c-0")
    for i in range(1, levels):
        node = ctl(f"c-{i}", controls=[node])
    return node


WITHDRAWN = [{"name": "status", "value": "withdrawn"}]
BOMB = [{"id": "p0", "label": "lol"}] + [
    {"id": f"p{i}", "label": f"{{{{ insert: param, p{i - 1} }}}} " * 10} for i in range(1, 30)
]
ENTITIES = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 12))
CASES = [
    (
        "truncated-json",
        lambda: ("c.json", cut(oscal_bytes(FULL), 0.6)),
        (),
        "c.json: not valid JSON (line ",
        "(is the file cut short?)",
    ),
    (
        "truncated-xml",
        lambda: ("m.xml", cut(oscal_bytes(MODERATE_XML), 0.5)),
        (),
        "m.xml: not well-formed XML (line ",
        "is the file cut short?)",
    ),
    (
        # Cut at a line end a YAML file still parses; its links into the lost back-matter tell.
        "truncated-yaml-in-the-controls",
        lambda: ("m.yaml", cut(oscal_bytes(MODERATE_YAML), 0.5, at_line=True)),
        (),
        "m.yaml: control 'ac-1': links to resource #",
        "which the file's back-matter does not hold (is the file cut short?)",
    ),
    (
        "truncated-yaml-in-the-back-matter",
        lambda: ("m.yaml", cut(oscal_bytes(MODERATE_YAML), 0.95, at_line=True)),
        (),
        "m.yaml: control '",
        "which the file's back-matter does not hold (is the file cut short?)",
    ),
    (
        "duplicate-control-id",
        lambda: (
            "c.json",
            catalog([{"id": "g", "title": "G", "controls": [ctl("g-1"), ctl("g-1")]}]),
        ),
        (),
        "c.json: control 'g-1': the id 'g-1' is used twice (first by control 'g-1')",
        None,
    ),
    (
        "duplicate-group-id",
        lambda: ("c.json", catalog([{"id": "g", "title": "G"}, {"id": "g", "title": "H"}])),
        (),
        "c.json: group 'g': the id 'g' is used twice (first by group 'g')",
        None,
    ),
    (
        "empty-title",
        lambda: ("c.json", catalog([{"id": "g", "title": "G", "controls": [ctl("g-1", "  ")]}])),
        (),
        "c.json: control 'g-1': empty title",
        None,
    ),
    (
        "same-question-key",
        lambda: (
            "c.json",
            catalog([{"id": "g", "title": "G", "controls": [ctl("AC-1"), ctl("ac-1")]}]),
        ),
        (),
        "c.json: controls 'AC-1' and 'ac-1' both become question key 'ac-1'",
        None,
    ),
    (
        "profile-without-its-catalog",
        lambda: ("p.json", oscal_bytes(MODERATE_PROFILE)),
        (),
        "p.json: an OSCAL profile; give the catalog it imports with --catalog",
        None,
    ),
    (
        "profile-whose-catalog-lacks-a-control",
        lambda: ("p.json", oscal_bytes(MODERATE_PROFILE)),
        ("--catalog", "small"),
        "p.json: import 1: control 'ac-1' is not in small.json",
        None,
    ),
    (
        "profile-whose-catalog-file-is-missing",
        lambda: ("p.json", oscal_bytes(MODERATE_PROFILE)),
        ("--catalog", "no-such-catalog.json"),
        "no such file: no-such-catalog.json (the --catalog)",
        None,
    ),
    (
        "catalog-given-a-catalog",
        lambda: ("c.json", catalog([{"id": "g", "title": "G", "controls": [ctl("g-1")]}])),
        ("--catalog", "small"),
        "c.json: a catalog, not a profile; --catalog applies to profiles",
        None,
    ),
    (
        "every-control-withdrawn",
        lambda: (
            "c.json",
            catalog([{"id": "g", "title": "G", "controls": [ctl("g-1", props=WITHDRAWN)]}]),
        ),
        (),
        "c.json: the catalog has no controls to import (all withdrawn?)",
        None,
    ),
    (
        "wrong-root-element",
        lambda: (
            "s.xml",
            f'<system-security-plan xmlns="{NS}"><metadata/></system-security-plan>'.encode(),
        ),
        (),
        "s.xml: not an OSCAL catalog or profile (the root element is <system-security-plan>",
        None,
    ),
    (
        "other-oscal-model",
        lambda: ("d.json", b'{"component-definition": {"uuid": "x"}}'),
        (),
        "d.json: an OSCAL component-definition, not a catalog or profile",
        None,
    ),
    (
        "not-oscal-json",
        lambda: ("b.json", b'{"key": "b", "version": 1, "sections": []}'),
        (),
        "b.json: not an OSCAL catalog or profile (expected a top-level 'catalog' or 'profile'",
        "found key, sections, version)",
    ),
    (
        "xml-bomb",
        lambda: (
            "bomb.xml",
            f'<?xml version="1.0"?><!DOCTYPE catalog [<!ENTITY l0 "lol">{ENTITIES}]><catalog>&l11;</catalog>'.encode(),
        ),
        (),
        "bomb.xml: XML with a DOCTYPE or entity declarations is refused",
        None,
    ),
    (
        "yaml-alias-bomb",
        lambda: (
            "b.yaml",
            b"catalog:\n  a: &a [x, x, x]\n  b: &b [*a, *a, *a]\n  c: [*b, *b, *b]\n",
        ),
        (),
        "b.yaml: line 2, column 6: YAML anchors and aliases are refused",
        None,
    ),
    (
        "parameter-bomb",
        lambda: (
            "b.json",
            catalog(
                [
                    {
                        "id": "g",
                        "title": "G",
                        "controls": [
                            {
                                "id": "c-1",
                                "title": "C",
                                "params": BOMB,
                                "parts": [
                                    {"name": "statement", "prose": "Do {{ insert: param, p29 }}"}
                                ],
                            }
                        ],
                    }
                ]
            ),
        ),
        (),
        "b.json: control 'c-1': parameter 'p2' expands to more than 2000 characters",
        None,
    ),
    (
        "undefined-parameter",
        lambda: (
            "c.json",
            catalog(
                [
                    {
                        "id": "g",
                        "title": "G",
                        "controls": [
                            {
                                "id": "c-1",
                                "title": "C",
                                "parts": [
                                    {
                                        "name": "statement",
                                        "prose": "Every {{ insert: param, c-1_prm_9 }}.",
                                    }
                                ],
                            }
                        ],
                    }
                ]
            ),
        ),
        (),
        "c.json: control 'c-1': inserts parameter 'c-1_prm_9', which the file does not define",
        None,
    ),
    (
        "nested-too-deep",
        lambda: ("c.json", catalog([{"id": "g", "title": "G", "controls": [deep(40)]}])),
        (),
        "c.json: control 'c-8': nested more than 32 levels deep",
        None,
    ),
    (
        "unknown-control-class",
        lambda: ("c.json", oscal_bytes(FULL)),
        ("--control-class", "question"),
        "c.json: no control has class 'question' (classes: SP800-53, SP800-53-enhancement)",
        None,
    ),
    (
        "where-value-nobody-carries",
        lambda: ("m.xml", oscal_bytes(MODERATE_XML)),
        ("--where", "implementation-level=sytem"),
        "m.xml: no control carries implementation-level=sytem (values of 'implementation-level': organization, system)",
        None,
    ),
    (
        "where-without-a-value",
        lambda: ("m.xml", oscal_bytes(MODERATE_XML)),
        ("--where", "implementation-level"),
        "m.xml: --where expects NAME=VALUE, got 'implementation-level'",
        None,
    ),
    (
        "no-title",
        lambda: (
            "c.json",
            json.dumps(
                {"catalog": {"uuid": UUID, "metadata": {}, "controls": [ctl("c-1")]}}
            ).encode(),
        ),
        (),
        "c.json: metadata: missing title (a catalog is known by its title)",
        None,
    ),
]


@pytest.mark.parametrize(
    ("make", "flags", "message", "ending"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_oscal_is_refused_with_one_line_and_nothing_is_written(
    cli_url, capsys, tmp_path, make, flags, message, ending
):
    name, data = make()
    path = tmp_path / name
    path.write_bytes(data)
    small = tmp_path / "small.json"
    small.write_bytes(catalog([{"id": "g", "title": "G", "controls": [ctl("g-1")]}]))
    flags = tuple(str(small) if f == "small" else f for f in flags)
    before = rows(cli_url)
    for dry_run in (("--dry-run",), ()):  # the dry run refuses exactly as the import does
        started = time.perf_counter()
        code, out, err = run(capsys, "import-bank", str(path), *flags, *dry_run)
        assert code == 1 and err.count("\n") == 1, (out, err)
        assert message in err, err
        if ending:
            assert err.rstrip("\n").endswith(ending), err
        assert time.perf_counter() - started < 10  # no bomb goes off
    assert rows(cli_url) == before
