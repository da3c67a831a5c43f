"""Standard frameworks shipped as banks, and loading a bank from an uploaded source file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.banks.asvs import ASVS_LICENCE, asvs_bank
from core.banks.model import MAX_TITLE, Bank
from core.banks.oscal import Rules, normalise_key
from core.banks.oscal_document import Document, looks_like_oscal_yaml, read_document
from core.banks.oscal_source import Options, OscalImport, oscal_import
from core.banks.yaml_io import load_bank_file, load_bank_text, shipped_bank_paths
from core.errors import ValidationError

FRAMEWORKS_DIR = Path(__file__).resolve().parents[2] / "data" / "frameworks"
MAX_SOURCE_BYTES = 20 * 1024 * 1024
FORMATS = ("yaml", "oscal", "asvs")
_EXTENSIONS = {".yaml": "yaml", ".yml": "yaml", ".json": "oscal", ".xml": "oscal", ".csv": "asvs"}
PUBLIC_DOMAIN = "Public domain (US government work)"
# Unscored on purpose: parse_bank spreads a maturity scale evenly (0, 1/3, 2/3, 1).
CSF_TIERS = (
    {"key": "partial", "label": "Partial"},
    {"key": "risk-informed", "label": "Risk Informed"},
    {"key": "repeatable", "label": "Repeatable"},
    {"key": "adaptive", "label": "Adaptive"},
)


@dataclass(frozen=True)
class Framework:
    """A shipped framework: its source file in data/frameworks and how to import it."""

    file: str
    key: str
    title: str
    description: str
    source: str
    licence: str
    question_type: str = "yes_no_partial"
    version: int = 1
    scale: tuple[Mapping[str, Any], ...] = ()
    level: int | None = None  # ASVS only: the highest level included
    require_part: str | None = None  # OSCAL only: see core.banks.oscal.Rules
    catalog_title: str | None = None  # OSCAL only: the metadata title an upload is known by

    @property
    def path(self) -> Path:
        """The source file."""
        return FRAMEWORKS_DIR / self.file

    def rules(self) -> Rules:
        """How this framework's controls become questions."""
        return Rules(self.question_type, self.scale, self.require_part)


SHIPPED = (
    Framework(
        "NIST_CSF_v2.0_catalog.xml",
        "nist-csf-2.0",
        "NIST Cybersecurity Framework 2.0",
        "The outcomes of the NIST Cybersecurity Framework 2.0, one question per subcategory, "
        "each rated on the CSF tiers: Partial, Risk Informed, Repeatable, Adaptive. Withdrawn "
        "subcategories are left out.",
        "NIST CSWP 29 (CSF 2.0), OSCAL catalog",
        PUBLIC_DOMAIN,
        question_type="maturity",
        scale=CSF_TIERS,
        require_part="example",
        # v2: categories in the CSF's own order (sort-id; v1 kept the file's alphabetical one),
        # examples kept whole (v1 cut them at 800 characters)
        version=2,
        catalog_title="NIST Cybersecurity Framework 2.0",
    ),
    Framework(
        "NIST_SP-800-53_rev5_LOW-baseline-resolved-profile_catalog-min.json",
        "nist-800-53-r5-low",
        "NIST SP 800-53 Rev. 5 LOW Baseline",
        "The controls and control enhancements of the NIST SP 800-53 Rev. 5 LOW baseline, one "
        "question each. Organization-defined parameters appear as [Assignment: ...] and "
        "[Selection: ...].",
        "NIST SP 800-53 Rev. 5, LOW baseline (OSCAL)",
        PUBLIC_DOMAIN,
        # v2: guidance kept whole (v1 dropped any over 800 characters, most of it), assessment
        # objectives added to the help, links in the prose read as their text
        version=2,
        catalog_title="NIST Special Publication 800-53 Revision 5.1.1 LOW IMPACT BASELINE",
    ),
    Framework(
        "OWASP_ASVS_5.0.0_en.csv",
        "owasp-asvs-5.0-l1",
        "OWASP Application Security Verification Standard 5.0 (Level 1)",
        "The Level 1 requirements of the OWASP ASVS, one question per requirement. Derived from "
        "OWASP Application Security Verification Standard 5.0.0, OWASP Foundation, CC BY-SA 4.0; "
        "this bank is licensed CC BY-SA 4.0 as well.",
        "OWASP ASVS 5.0.0, OWASP Foundation",
        ASVS_LICENCE,
        level=1,
    ),
)


def framework_bank(framework: Framework) -> Bank:
    """Build one shipped framework's bank from its source file."""
    name, data = framework.path.name, framework.path.read_bytes()
    if framework.level is not None:
        return asvs_bank(
            _decode(name, data),
            level=framework.level,
            key=framework.key,
            version=framework.version,
            title=framework.title,
            description=framework.description,
            source=framework.source,
            licence=framework.licence,
            source_name=name,
        )
    document = read_document(name, data, _decode(name, data))
    return oscal_import(document, None, Options(), [framework]).bank


def shipped_banks() -> list[Bank]:
    """The YAML banks in data/question_banks, then the frameworks built from data/frameworks."""
    return [load_bank_file(path) for path in shipped_bank_paths()] + [
        framework_bank(framework) for framework in SHIPPED
    ]


@dataclass(frozen=True)
class Source:
    """A bank read from an uploaded file: version_fixed when the file (or --version) sets the
    version, otherwise the store gives the next free one; notes are what the dry run lists."""

    bank: Bank
    version_fixed: bool = True
    notes: tuple[str, ...] = ()


def read_source(
    path_or_name: str | Path,
    data: bytes,
    *,
    fmt: str | None = None,
    level: int | None = None,
    key: str | None = None,
    title: str | None = None,
    version: int | None = None,
    catalog: tuple[str, bytes] | None = None,
    control_classes: Sequence[str] = (),
    where: Sequence[str] = (),
) -> Source:
    """A bank from a YAML bank, an OSCAL catalog or profile (JSON, XML or YAML) or the ASVS CSV.

    catalog: (name, bytes) of the catalog a profile imports. The format comes from the content
    and extension unless fmt names it; files are at most 20 MB."""
    name = Path(path_or_name).name
    text = _checked(name, data)
    fmt = _format(name, fmt, text)
    oscal_only = {"--catalog": catalog, "--control-class": control_classes, "--where": where}
    for flag, value in oscal_only.items():
        if value and fmt != "oscal":
            raise ValidationError(f"{name}: {flag} applies only to OSCAL files")
    if level is not None and fmt != "asvs":
        raise ValidationError(f"{name}: a level applies only to ASVS files")
    if fmt == "yaml":
        if key or title or version:
            raise ValidationError(f"{name}: a YAML bank sets its own key, title and version")
        return Source(load_bank_text(text, source_name=name))
    if fmt == "asvs":
        return Source(_asvs_upload(name, text, 1 if level is None else level, key, title, version))
    options = Options(key, title, version, tuple(control_classes), tuple(where))
    found = _oscal(name, data, text, catalog, options)
    return Source(found.bank, found.version_fixed, found.notes)


def load_bank_source(path_or_name: str | Path, data: bytes, **options: Any) -> Bank:
    """The bank alone from read_source (same arguments)."""
    return read_source(path_or_name, data, **options).bank


def _oscal(
    name: str, data: bytes, text: str, catalog: tuple[str, bytes] | None, options: Options
) -> OscalImport:
    document = read_document(name, data, text)
    catalog_document: Document | None = None
    if catalog is not None:
        catalog_name = Path(catalog[0]).name
        catalog_text = _checked(catalog_name, catalog[1])
        catalog_document = read_document(catalog_name, catalog[1], catalog_text)
    shipped = [f for f in SHIPPED if f.catalog_title]
    return oscal_import(document, catalog_document, options, shipped)


def _asvs_upload(
    name: str, text: str, level: int, key: str | None, title: str | None, version: int | None
) -> Bank:
    stem = Path(name).stem
    return asvs_bank(
        text,
        level=level,
        version=version or 1,
        source_name=name,
        key=key or normalise_key(f"{stem}-l{level}"),
        title=title or f"{stem} (Level {level})"[:MAX_TITLE],
    )


def _checked(name: str, data: bytes) -> str:
    if len(data) > MAX_SOURCE_BYTES:
        raise ValidationError(f"{name}: file is larger than {MAX_SOURCE_BYTES // 2**20} MB")
    if not data.strip():
        raise ValidationError(f"{name}: the file is empty")
    return _decode(name, data)


def _format(name: str, fmt: str | None, text: str) -> str:
    if fmt is None:
        fmt = _EXTENSIONS.get(Path(name).suffix.lower())
        if fmt is None:
            raise ValidationError(
                f"{name}: cannot tell the format from the file extension; "
                f"use .yaml, .yml, .json, .xml or .csv, or choose one of "
                f"{', '.join(FORMATS)}"
            )
        if fmt == "yaml" and looks_like_oscal_yaml(text):
            fmt = "oscal"  # an OSCAL YAML edition, not one of our bank files
    if fmt not in FORMATS:
        raise ValidationError(
            f"{name}: unknown format {fmt!r} (expected one of {', '.join(FORMATS)})"
        )
    return fmt


def _decode(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")  # spreadsheet exports often start with a BOM
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"{name}: the file is not UTF-8 text (invalid byte at offset {exc.start})"
        ) from None
