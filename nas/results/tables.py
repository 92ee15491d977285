"""How a value of a trials frame reads in a table cell, the same in the terminal and the
report."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd


def format_cell(value: Any) -> str:
    """A cell's text: empty for a missing value, ``yes`` or empty for a flag, integers whole
    with thousands separators, other numbers to four significant digits (whole from 1,000
    up), anything else as its ``str``."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else ""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)
