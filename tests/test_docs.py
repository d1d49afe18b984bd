"""Documentation is tested: the CLI reference is current and README's commands exist."""

from __future__ import annotations

import re
import runpy

from tests.conftest import REPO


def test_cli_reference_is_current() -> None:
    module = runpy.run_path(str(REPO / "scripts" / "gen_cli_docs.py"))
    current = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert module["render"]() == current, "docs/cli.md is stale: run `make docs`"


def test_readme_commands_exist() -> None:
    from isdas.cli import COMMANDS

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = "\n".join(re.findall(r"```sh\n(.*?)```", readme, flags=re.S))
    used = set(re.findall(r"^isdas (?:--home \S+ )?([a-z]+)", blocks, flags=re.M))
    assert used, "README shows no isdas command"
    assert used <= set(COMMANDS), used - set(COMMANDS)


def test_readme_links_resolve() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#]+\.md)\)", readme):
        assert (REPO / target).is_file(), target
