"""``nas fields`` (every field of a space file) and ``nas schema`` (JSON Schemas for editors)."""

from __future__ import annotations

import argparse


def cmd_fields(args: argparse.Namespace) -> int:
    from rich.table import Table

    from nas.checks import did_you_mean
    from nas.cli.console import plain, stdout_console
    from nas.errors import UsageError
    from nas.space import layer_docs, section_docs

    docs = {**layer_docs(), **section_docs()}
    if args.layer_type is not None and args.layer_type not in docs:
        raise UsageError(
            f"nas fields: unknown layer type {args.layer_type!r}; expected one of "
            f"{', '.join(docs)}" + did_you_mean(args.layer_type, docs)
        )
    console = stdout_console()
    for name, doc in docs.items():
        if args.layer_type not in (None, name):
            continue
        console.print(plain(f"{name}: {doc.summary}"))
        table = Table()
        for column in ("field", "type", "default", "accepts"):
            table.add_column(plain(column))
        for field in doc.fields:
            default = "required" if field.required else _literal(field.default)
            table.add_row(*(plain(c) for c in (field.name, field.kind, default, field.allowed)))
        console.print(table)
    if args.layer_type is None:
        console.print(
            plain(
                "Every field takes a fixed value, {choices: [...]}, or (numbers) a range "
                "{low, high, step?, log?}; a field left out comes from shared:, else the "
                "default. JSON Schema for editors: nas schema space"
            )
        )
    return 0


def _literal(value: object) -> str:
    """A default as YAML writes it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def configure_fields(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "layer_type",
        nargs="?",
        metavar="LAYER_TYPE",
        help="only this layer type (or 'template', 'optimizer'); default: all",
    )


def cmd_schema(args: argparse.Namespace) -> int:
    import json

    from nas.config import experiment_schema
    from nas.space import space_schema

    schema = space_schema() if args.kind == "space" else experiment_schema()
    print(json.dumps(schema, indent=2))
    return 0


def configure_schema(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "kind",
        choices=["space", "experiment"],
        help="which file's schema to print (committed as schemas/KIND.schema.json)",
    )
