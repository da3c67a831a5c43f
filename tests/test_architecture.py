"""Layering rules that keep the code base honest."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    "path", sorted((ROOT / "core").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_core_never_imports_streamlit(path):
    assert not {"streamlit", "streamlit_authenticator", "ui"} & _imports(path)


@pytest.mark.parametrize("path", sorted((ROOT / "pages").glob("*.py")), ids=lambda p: p.name)
def test_pages_do_not_touch_the_database_directly(path):
    assert not {"sqlalchemy", "sqlite3", "psycopg"} & _imports(path)


def test_nothing_reads_the_shared_folder():
    needle = "/".join(("..", "shared"))
    offenders = [
        p for p in ROOT.rglob("*.py") if ".venv" not in p.parts and needle in p.read_text()
    ]
    assert offenders == []


WEB_FRAMEWORKS = {"fastapi", "fastapi_offline", "starlette", "uvicorn", "prometheus_client"}


@pytest.mark.parametrize(
    "path",
    sorted(
        p
        for folder in ("core", "ui", "pages")
        for p in (ROOT / folder).rglob("*.py")
        if (ROOT / "core" / "api") not in p.parents
    )
    + [ROOT / "app.py"],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_only_the_api_package_imports_the_web_framework(path):
    assert not WEB_FRAMEWORKS & _imports(path)
