"""Tables of trials laid out for where they are printed.

On a terminal a table fits its width: the columns every layout has (rank, trial, objectives,
parameters, architecture), then further ones by priority
(:class:`nas.results.tables.TrialsTable`) while the table still fits without wrapping.
Numbers are never cut or wrapped; where even the fixed columns need more room than the
terminal has, only free text (the architecture label, a reason) wraps within its cell.
Elsewhere (a pipe, a file) and with ``wide`` every column is shown at the width it needs:
one line per trial, nothing cut.
"""

from __future__ import annotations

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from nas.cli.console import plain
from nas.results.tables import ALWAYS, Column, TrialsTable

UNLIMITED = 100_000
"""The width a table is measured in when nothing limits it."""


def layout(table: TrialsTable, columns: list[Column]) -> Table:
    """A rich table of ``columns`` of ``table``; every string is printed as text."""
    view = Table(title=plain(table.title))
    for column in columns:
        view.add_column(
            plain(column.header),
            justify="left" if column.text else "right",
            # Only free text may wrap (at its spaces, folding a word longer than the cell).
            no_wrap=not column.text,
            overflow="fold",
            min_width=None if column.text else _natural(table, column),
        )
    for row in table.rows:
        view.add_row(*(plain(row[column.key]) for column in columns))
    return view


def natural_width(view: Table, console: Console) -> int:
    """How wide ``view`` is when nothing limits it."""
    return Measurement.get(console, console.options.update_width(UNLIMITED), view).maximum


def fitted_columns(table: TrialsTable, console: Console, width: int) -> list[Column]:
    """The columns to show in ``width``: those of priority :data:`ALWAYS`, then each further
    one, by priority, that still lets the table fit without wrapping."""
    chosen = table.shown(ALWAYS)
    for column in sorted(
        (c for c in table.columns if c.priority != ALWAYS), key=lambda c: c.priority
    ):
        trial = [c for c in table.columns if c in chosen or c is column]
        if natural_width(layout(table, trial), console) <= width:
            chosen = trial
    return chosen


def print_trials(table: TrialsTable, console: Console, *, wide: bool = False) -> None:
    """Print ``table`` to ``console``: fitted to a terminal's width, else (and with
    ``wide``) every column at its natural width, one line per trial."""
    if console.is_terminal and not wide:
        console.print(layout(table, fitted_columns(table, console, console.width)))
        return
    view = layout(table, table.shown())
    width = max(natural_width(view, console), len(table.title))
    # A console as wide as the table: rich neither wraps nor cuts what it cannot see.
    Console(
        file=console.file,
        width=width,
        force_terminal=console.is_terminal,
        color_system=console.color_system,
        no_color=console.no_color,
    ).print(view)


def _natural(table: TrialsTable, column: Column) -> int:
    cells = [column.header, *(row[column.key] for row in table.rows)]
    return max(plain(cell).cell_len for cell in cells)
