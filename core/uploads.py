"""Upload checks: the file name, the content against its extension, zip and image bombs."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from core.errors import ValidationError
from core.text import refuse_hidden

MB = 1024 * 1024
MAX_NAME = 200
# Office documents are zip archives; these bound what a reader would inflate (zip bombs).
ZIP_MAX_TOTAL = 100 * MB
ZIP_MAX_RATIO = 100
ZIP_MAX_MEMBERS = 1000
# Images are decoded whole at upload; this bounds the memory one decode (and a reviewer's preview)
# may take. Below Pillow's own bomb warning (about 89 million), so that warning never fires later.
IMAGE_MAX_PIXELS = 50_000_000
_IMAGE_FORMATS = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG", "gif": "GIF"}
# Refused anywhere after the first dot: "report.pdf.exe" fools people, "x.php.pdf" fools some servers.
EXECUTABLE = frozenset(
    {
        "exe",
        "dll",
        "bat",
        "cmd",
        "com",
        "scr",
        "js",
        "vbs",
        "ps1",
        "sh",
        "msi",
        "jar",
        "apk",
        "php",
        "html",
        "htm",
        "svg",
        "hta",
        "lnk",
        "pif",
        "reg",
        "wsf",
        "vbe",
        "jse",
        "cpl",
        "xhtml",
        "phtml",
    }
)
_UNSAFE_DOWNLOAD = re.compile(r"[^A-Za-z0-9 ._-]+")


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed every check: its safe display name and its content type."""

    name: str
    content_type: str


def _starts(*prefixes: bytes) -> Callable[[bytes], bool]:
    return lambda data: data.startswith(prefixes)


def _is_text(data: bytes) -> bool:
    """UTF-8 without NUL bytes: what every text type here must be."""
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


_OOXML = "application/vnd.openxmlformats-officedocument."
ALLOWED_TYPES: dict[str, tuple[str, Callable[[bytes], bool]]] = {
    "pdf": ("application/pdf", _starts(b"%PDF-")),
    "png": ("image/png", _starts(b"\x89PNG\r\n\x1a\n")),
    "jpg": ("image/jpeg", _starts(b"\xff\xd8\xff")),
    "jpeg": ("image/jpeg", _starts(b"\xff\xd8\xff")),
    "gif": ("image/gif", _starts(b"GIF87a", b"GIF89a")),
    "txt": ("text/plain", _is_text),
    "log": ("text/plain", _is_text),
    "csv": ("text/csv", _is_text),
    "md": ("text/markdown", _is_text),
    "json": ("application/json", _is_text),
    "docx": (_OOXML + "wordprocessingml.document", lambda data: _is_office(data, "word/")),
    "xlsx": (_OOXML + "spreadsheetml.sheet", lambda data: _is_office(data, "xl/")),
    "pptx": (_OOXML + "presentationml.presentation", lambda data: _is_office(data, "ppt/")),
}


def _is_office(data: bytes, main_folder: str) -> bool:
    """A readable, bounded zip holding [Content_Types].xml and the format's main folder."""
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            _check_zip_limits(members)
            names = {m.filename for m in members}
            if "[Content_Types].xml" not in names or not any(
                n.startswith(main_folder) for n in names
            ):
                return False
            # Inflates in memory only, and never past the declared sizes already bounded above.
            damaged = archive.testzip() is not None
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        NotImplementedError,
        RuntimeError,
        ValueError,
    ):
        damaged = True
    if damaged:
        raise ValidationError(
            "The file is not a readable Office document (its zip structure is damaged)."
        )
    return True


def _check_zip_limits(members: list[zipfile.ZipInfo]) -> None:
    if len(members) > ZIP_MAX_MEMBERS:
        raise ValidationError(
            f"The document holds more than {ZIP_MAX_MEMBERS} parts; it is refused."
        )
    if sum(m.file_size for m in members) > ZIP_MAX_TOTAL:
        raise ValidationError(
            f"The document would expand to more than {ZIP_MAX_TOTAL // MB} MB; "
            "it is refused as a possible zip bomb."
        )
    if any(m.file_size > ZIP_MAX_RATIO * max(m.compress_size, 1) for m in members):
        raise ValidationError(
            f"Part of the document is compressed more than {ZIP_MAX_RATIO}:1; "
            "it is refused as a possible zip bomb."
        )


def _check_image(data: bytes, ext: str) -> None:
    """Refuse an image Pillow cannot decode in full, or one with too many pixels to decode safely."""
    fmt = _IMAGE_FORMATS[ext]
    try:
        # Only the format the extension names is tried, so no other decoder ever sees the bytes.
        with Image.open(io.BytesIO(data), formats=[fmt]) as image:
            width, height = image.size
            if width * height > IMAGE_MAX_PIXELS:
                raise ValidationError(
                    f"The image is {width} x {height} pixels; the limit is "
                    f"{IMAGE_MAX_PIXELS // 1_000_000} million pixels."
                )
            image.verify()
        # verify() leaves the image unusable, and it does not decode pixels: a fresh open does.
        with Image.open(io.BytesIO(data), formats=[fmt]) as image:
            image.load()
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(
            f"The image has more than {IMAGE_MAX_PIXELS // 1_000_000} million "
            "pixels; it is refused as a possible decompression bomb."
        ) from None
    except Exception:
        raise ValidationError(
            f"The file is not a readable {fmt} image: it is damaged or not an image."
        ) from None


def _check_name(filename: str) -> tuple[str, str]:
    """The cleaned display name and its lower-case extension, or ValidationError."""
    # Checked before stripping so that a trailing newline or NUL is refused, not silently removed.
    refuse_hidden(filename or "", "The file name")
    name = unicodedata.normalize("NFC", filename or "").strip()
    if not name:
        raise ValidationError("The file needs a name.")
    if len(name) > MAX_NAME:
        raise ValidationError(f"The file name is longer than {MAX_NAME} characters.")
    if any(sep in name for sep in "/\\:") or name.startswith("."):
        raise ValidationError(
            "The file name must be a plain name: no folders, '..', ':' or leading dot."
        )
    parts = [part.strip().lower() for part in name.split(".")]
    if len(parts) < 2 or not parts[-1]:
        raise ValidationError("The file name needs an extension such as .pdf.")
    hidden = sorted(set(parts[1:]) & EXECUTABLE)
    if hidden:
        raise ValidationError(
            f"The file name has a program extension (.{hidden[0]}); it is refused."
        )
    if parts[-1] not in ALLOWED_TYPES:
        raise ValidationError(
            f"Files of type .{parts[-1]} are not accepted; allowed: "
            + ", ".join(f".{ext}" for ext in ALLOWED_TYPES)
            + "."
        )
    return name, parts[-1]


def check_upload(filename: str, data: bytes, *, max_bytes: int) -> CheckedUpload:
    """Validate an upload: its safe display name and content type, or ValidationError."""
    if not data:
        raise ValidationError("The file is empty.")
    if len(data) > max_bytes:
        raise ValidationError(
            f"The file is {len(data) / MB:.1f} MB; the limit is {max_bytes / MB:g} MB."
        )
    name, ext = _check_name(filename)
    content_type, matches = ALLOWED_TYPES[ext]
    if not matches(data):
        raise ValidationError(f"The file's content does not match its .{ext} extension.")
    if ext in _IMAGE_FORMATS:
        _check_image(data, ext)
    return CheckedUpload(name, content_type)


def download_name(filename: str) -> str:
    """A name safe for a Content-Disposition header: ASCII letters, digits, space and . - _ only."""
    cleaned = _UNSAFE_DOWNLOAD.sub("_", filename or "").strip(" .")
    return cleaned if cleaned.strip("_") else "evidence"
