"""Calling the CLI in-process: main([...]) with its exit code and captured output."""

from core.cli import main


def run(capsys, *argv):
    """Run one CLI command; returns (exit code, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
