"""Standard frameworks shipped as banks, and loading a bank from an uploaded source file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.banks.asvs import ASVS_LICENCE, asvs_bank
from core.banks.model import MAX_TITLE, Bank
from core.banks.oscal import normalise_key, oscal_bank
from core.banks.oscal_catalog import catalog_from_json, catalog_from_xml
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
    scale: tuple = ()
    level: int | None = None  # ASVS only: the highest level included
    require_part: str | None = None  # OSCAL only: see oscal_bank

    @property
    def path(self) -> Path:
        """The source file."""
        return FRAMEWORKS_DIR / self.file


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
    common = {
        "key": framework.key,
        "version": framework.version,
        "title": framework.title,
        "description": framework.description,
        "source": framework.source,
        "licence": framework.licence,
        "source_name": name,
    }
    if framework.level is not None:
        return asvs_bank(_decode(name, data), level=framework.level, **common)
    return oscal_bank(
        _catalog(name, data),
        question_type=framework.question_type,
        scale=framework.scale or None,
        require_part=framework.require_part,
        **common,
    )


def shipped_banks() -> list[Bank]:
    """The YAML banks in data/question_banks, then the frameworks built from data/frameworks."""
    return [load_bank_file(path) for path in shipped_bank_paths()] + [
        framework_bank(framework) for framework in SHIPPED
    ]


def load_bank_source(
    path_or_name: str | Path,
    data: bytes,
    *,
    fmt: str | None = None,
    level: int | None = None,
    key: str | None = None,
    title: str | None = None,
) -> Bank:
    """A bank from an uploaded YAML bank, OSCAL catalog (JSON/XML) or ASVS CSV, at most 20 MB."""
    # fmt defaults from the extension; OSCAL/ASVS key and title default to ones from the file.
    name = Path(path_or_name).name
    fmt = _format(name, fmt)
    if len(data) > MAX_SOURCE_BYTES:
        raise ValidationError(f"{name}: file is larger than {MAX_SOURCE_BYTES // 2**20} MB")
    if not data.strip():
        raise ValidationError(f"{name}: the file is empty")
    if level is not None and fmt != "asvs":
        raise ValidationError(f"{name}: a level applies only to ASVS files")
    text = _decode(name, data)
    if fmt == "yaml":
        if key or title:
            raise ValidationError(f"{name}: a YAML bank sets its own key and title")
        return load_bank_text(text, source_name=name)
    if fmt == "asvs":
        return _asvs_upload(name, text, 1 if level is None else level, key, title)
    return _oscal_upload(name, data, text, key, title)


def _asvs_upload(name: str, text: str, level: int, key: str | None, title: str | None) -> Bank:
    stem = Path(name).stem
    return asvs_bank(
        text,
        level=level,
        version=1,
        source_name=name,
        key=key or normalise_key(f"{stem}-l{level}"),
        title=title or f"{stem} (Level {level})"[:MAX_TITLE],
    )


def _oscal_upload(name: str, data: bytes, text: str, key: str | None, title: str | None) -> Bank:
    catalog = _catalog(name, data, text)
    title = title or (catalog["title"] or Path(name).stem)[:MAX_TITLE]
    return oscal_bank(
        catalog,
        key=key or normalise_key(title),
        version=1,
        title=title,
        question_type="yes_no_partial",
        source=f"OSCAL catalog {name}"[:MAX_TITLE],
        licence=None,
        source_name=name,
    )


def _format(name: str, fmt: str | None) -> str:
    if fmt is None:
        fmt = _EXTENSIONS.get(Path(name).suffix.lower())
        if fmt is None:
            raise ValidationError(
                f"{name}: cannot tell the format from the file extension; "
                f"use .yaml, .yml, .json, .xml or .csv, or choose one of "
                f"{', '.join(FORMATS)}"
            )
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


def _catalog(name: str, data: bytes, text: str | None = None) -> dict:
    """An OSCAL catalog in JSON or XML, told apart by content (then by extension)."""
    text = _decode(name, data) if text is None else text
    start = text.lstrip()[:1]
    if start == "<" or (start != "{" and name.lower().endswith(".xml")):
        return catalog_from_xml(data, source_name=name)
    return catalog_from_json(text, source_name=name)
