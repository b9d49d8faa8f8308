"""CSV as Bulk API 2.0 reads and writes it: delimiters, line endings, rows of text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Final


__all__ = ["DELIMITERS", "LINE_ENDINGS", "read_rows", "to_text", "write_csv"]

DELIMITERS: Final = {
    "BACKQUOTE": "`",
    "CARET": "^",
    "COMMA": ",",
    "PIPE": "|",
    "SEMICOLON": ";",
    "TAB": "\t",
}
LINE_ENDINGS: Final = {"LF": "\n", "CRLF": "\r\n"}
# In Bulk CSV an empty cell leaves a field alone; #N/A sets it to null.
NULL_MARKER: Final = "#N/A"


def read_rows(data: str, delimiter: str) -> tuple[list[str], list[list[str]]]:
    """The header and the rows of one uploaded CSV file (blank lines skipped)."""
    reader = csv.reader(io.StringIO(data, newline=""), delimiter=delimiter, strict=False)
    header: list[str] = []
    rows: list[list[str]] = []
    for row in reader:
        if not row or row == [""]:
            continue
        if not header:
            header = [name.strip() for name in row]
        else:
            rows.append(row)
    return header, rows


def write_csv(
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    delimiter: str = ",",
    line_ending: str = "\n",
) -> bytes:
    """Rows as CSV with every value quoted, the way Salesforce writes result files."""
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, delimiter=delimiter, lineterminator=line_ending, quoting=csv.QUOTE_ALL
    )
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def to_text(value: object) -> str:
    """One query-result value as Bulk CSV text: null is empty, booleans lower case."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text.endswith("+0000") and "T" in text:
        return text[: -len("+0000")] + "Z"
    return text
