"""One catalog, one bank: import-bank knows a catalog by its metadata, and --dry-run says exactly
what the import will do (the command line on a real SQLite database)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from core import db
from core.banks.store import list_questionnaires
from core.models import AuditLog, Question, Questionnaire
from tests.clirun import run
from tests.oscal_data import (
    CSF,
    FULL,
    ISO,
    LOW,
    MODERATE_PROFILE,
    MODERATE_XML,
    MODERATE_YAML,
    oscal_json,
    oscal_path,
)


@pytest.fixture
def cli_url(env, sqlite_url):
    """A database with the shipped banks, as `init` leaves it, that the CLI is pointed at."""
    env(sqlite_url)
    return sqlite_url


def rows(url) -> tuple[int, int, int]:
    with db.reading(url) as s:
        return tuple(
            s.scalar(select(func.count()).select_from(t))
            for t in (Questionnaire, Question, AuditLog)
        )


def versions(url, key) -> list[int]:
    with db.reading(url) as s:
        return [q["version"] for q in list_questionnaires(s) if q["key"] == key]


def both(capsys, *argv):
    """The dry run's verdict and the import's, which must say the same thing."""
    code, dry, err = run(capsys, "import-bank", *argv, "--dry-run")
    assert code == 0, err
    assert dry.endswith("dry run: nothing written\n")
    verdict = dry.splitlines()[-2]
    code, out, err = run(capsys, "import-bank", *argv)
    assert code == 0, err
    done = out.splitlines()[-1]
    if verdict.startswith("would import: "):
        assert done == "imported: " + verdict.removeprefix("would import: ")
    else:
        assert done == verdict
    return done


def test_the_same_catalog_in_every_edition_is_one_bank(cli_url, capsys, tmp_path):
    first = both(capsys, str(oscal_path(tmp_path, MODERATE_XML)))
    assert first.startswith("imported: new bank 'nist-special-publication-800-53-revision-moder")
    key = first.split("'")[1]
    stored = rows(cli_url)
    data = oscal_json(MODERATE_YAML)
    editions = {
        MODERATE_YAML: None,
        "moderate.json": json.dumps(data, indent=1).encode(),
        "moderate-min.json": json.dumps(data, separators=(",", ":")).encode(),
        "a renamed copy.yml": oscal_path(tmp_path, MODERATE_YAML).read_bytes(),
    }
    for name, content in editions.items():
        verdict = both(capsys, str(oscal_path(tmp_path, name, content)))
        assert verdict == f"already present, unchanged (bank {key!r} version 1)", name
    assert rows(cli_url) == stored


def test_a_newer_release_becomes_a_new_version_of_the_bank(cli_url, capsys, tmp_path):
    catalog = oscal_json(ISO)
    original = oscal_path(tmp_path, ISO)
    assert both(capsys, str(original)) == (
        "imported: new bank 'iso-iec-27001-2022-annex-a-catalog', version 1"
    )
    catalog["catalog"]["metadata"]["version"] = "2022.annex-a.1.1.0"
    catalog["catalog"]["uuid"] = "0f6a3c1b-9d2e-4c7a-8b5f-3e1d2c4b5a69"  # a new release's
    catalog["catalog"]["groups"][0]["controls"][0]["parts"][0]["prose"] += " (amended)"
    newer = oscal_path(tmp_path, "iso-2.json", json.dumps(catalog).encode())
    assert both(capsys, str(newer)) == (
        "imported: new version 2 of bank 'iso-iec-27001-2022-annex-a-catalog' (stored: v1)"
    )
    assert versions(cli_url, "iso-iec-27001-2022-annex-a-catalog") == [2, 1]
    # Either release imported again is found under its own version.
    assert both(capsys, str(original)).endswith("version 1)")
    assert both(capsys, str(newer)).endswith("version 2)")


def test_the_shipped_frameworks_uploaded_again_are_already_present(cli_url, capsys, tmp_path):
    stored = rows(cli_url)
    csf = both(
        capsys, str(oscal_path(tmp_path, "csf-upload.xml", oscal_path(tmp_path, CSF).read_bytes()))
    )
    assert csf == "already present, unchanged (bank 'nist-csf-2.0' version 2)"
    low = both(capsys, str(oscal_path(tmp_path, LOW)))
    assert low == "already present, unchanged (bank 'nist-800-53-r5-low' version 2)"
    assert rows(cli_url) == stored
    code, out, _ = run(capsys, "import-bank", str(tmp_path / "csf-upload.xml"), "--dry-run")
    assert code == 0
    assert "NIST Cybersecurity Framework 2.0 [nist-csf-2.0 v2]: 106 questions" in out
    assert "recognised as the shipped framework 'nist-csf-2.0'" in out


def test_key_title_and_version_override_and_a_taken_version_is_refused(cli_url, capsys, tmp_path):
    iso = str(oscal_path(tmp_path, ISO))
    flags = ("--key", "iso-annex-a", "--title", "Annex A", "--version", "3")
    assert both(capsys, iso, *flags) == "imported: new bank 'iso-annex-a', version 3"
    assert both(capsys, iso, *flags) == "already present, unchanged (bank 'iso-annex-a' version 3)"
    stored = rows(cli_url)
    subset = (*flags, "--where", "source-standard=ISO/IEC 27001:2022 Annex A", "--title", "Other")
    for dry in (("--dry-run",), ()):
        code, out, err = run(capsys, "import-bank", iso, *subset, *dry)
        assert code == 1 and err.count("\n") == 1, (out, err)
        assert err.endswith(
            "Bank 'iso-annex-a' version 3 already exists with different content; import the "
            "edited bank as a new version.\n"
        )
    assert rows(cli_url) == stored
    assert both(capsys, iso, "--key", "iso-annex-a", "--title", "Other") == (
        "imported: new version 4 of bank 'iso-annex-a' (stored: v3)"
    )


def test_a_profile_and_its_catalog_become_the_same_bank_as_nists_resolution(
    cli_url, capsys, tmp_path
):
    profile = str(oscal_path(tmp_path, MODERATE_PROFILE))
    catalog = str(oscal_path(tmp_path, FULL))
    code, out, err = run(capsys, "import-bank", profile, "--catalog", catalog, "--dry-run")
    assert code == 0, err
    assert "MODERATE IMPACT BASELINE [nist-special-publication-800-53-revision-moder" in out
    assert "]: 287 questions in 18 sections" in out
    first = both(capsys, profile, "--catalog", catalog)
    assert first.startswith("imported: new bank ")
    key = first.split("'")[1]
    # NIST's resolution is the same baseline (5.1.1 text; ours is the 5.0.1 catalog's).
    assert both(capsys, str(oscal_path(tmp_path, MODERATE_XML))) == (
        f"imported: new version 2 of bank {key!r} (stored: v1)"
    )


def test_the_dry_run_lists_classes_and_property_values(cli_url, capsys, tmp_path):
    code, out, err = run(capsys, "import-bank", str(oscal_path(tmp_path, FULL)), "--dry-run")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "control classes: SP800-53 (298), SP800-53-enhancement (709)"
    assert "]: 1007 questions in 20 sections: Access Control (AC) (" in lines[1]
    assert lines[-2].startswith("would import: new bank 'nist-special-publication-800-53-rev")
