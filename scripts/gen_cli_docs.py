"""Print docs/cli.md: the reference of every isdas command, generated from `--help`."""

from __future__ import annotations

import click

from isdas.cli import cli


def _walk(ctx: click.Context, cmd: click.Command, path: list[str]) -> list[str]:
    out = [f"## `{' '.join(path)}`", "", "```", cmd.get_help(ctx).rstrip(), "```", ""]
    if isinstance(cmd, click.Group):
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is not None:
                with click.Context(sub, info_name=name, parent=ctx) as sub_ctx:
                    out += _walk(sub_ctx, sub, [*path, name])
    return out


def render() -> str:
    """The whole reference as Markdown."""
    with click.Context(cli, info_name="isdas", terminal_width=100, max_content_width=100) as ctx:
        lines = _walk(ctx, cli, ["isdas"])
    head = ["# CLI reference", "", "Generated from `--help` by `make docs`; do not edit.", ""]
    return "\n".join(head + lines)


if __name__ == "__main__":
    print(render(), end="")
