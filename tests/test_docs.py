"""Documentation that must keep up with the code."""

from pathlib import Path

import pytest

from core.cli import build_parser
from core.settings import SETTINGS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


@pytest.mark.parametrize("key", list(SETTINGS))
def test_every_setting_is_documented_in_the_readme(key):
    assert f"`{key}`" in README


def test_every_cli_command_is_documented_in_the_readme():
    commands = build_parser()._subparsers._group_actions[0].choices
    missing = [name for name in commands if f"`{name}" not in README]
    assert missing == []
