"""CSV and XLSX: the same columns and rows in either, for programme officers' spreadsheets.

A cell is text, a whole number, a decimal or empty. Dates stay the text the
cooperation gave them (``2019``, ``2019-06``, ``2019-06-09``): a spreadsheet date
cell would pad a year to a first of January. So that a spreadsheet opening the
file never runs what a partner city wrote as a formula, a CSV cell of text that
begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written with
a leading ``'``, and an XLSX cell of text is always typed text.
"""

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.cell.cell import Cell as WorkbookCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

Cell = str | int | float | None
Row = Sequence[Cell]

CSV_MEDIA = "text/csv"
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel reads a CSV file without a byte-order mark in the machine's legacy code page,
# which garbles native names (柳州).
BYTE_ORDER_MARK = "\ufeff".encode()
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_BYTES = 64 * 1024
SPOOLED_BYTES = 1024 * 1024
_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Sheet:
    """One table: its name (an XLSX sheet's), its columns and its rows."""

    name: str
    columns: Sequence[str]
    rows: Iterable[Row]


def csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return f"'{value}" if value.startswith(FORMULA_LEADS) else value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # as a spreadsheet shows a number: 1, not 1.0
    return str(value)


def csv_rows(rows: Iterable[Row]) -> bytes:
    """``rows`` as CSV lines (RFC 4180: CRLF, quoted where needed), UTF-8."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return text.getvalue().encode()


def csv_header(columns: Sequence[str]) -> bytes:
    return BYTE_ORDER_MARK + csv_rows([columns])


def csv_bytes(sheet: Sheet) -> bytes:
    return csv_header(sheet.columns) + csv_rows(sheet.rows)


class XlsxBook:
    """A write-only workbook: rows go to a temporary file as they come, not to memory."""

    def __init__(self) -> None:
        self._book = Workbook(write_only=True)

    def sheet(self, name: str, columns: Sequence[str]) -> WriteOnlyWorksheet:
        sheet: WriteOnlyWorksheet = self._book.create_sheet(title=name)
        bold = Font(bold=True)
        header = []
        for column in columns:
            cell = WriteOnlyCell(sheet, value=column)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        return sheet

    @staticmethod
    def append(sheet: WriteOnlyWorksheet, rows: Iterable[Row]) -> None:
        for row in rows:
            sheet.append([_xlsx_cell(sheet, value) for value in row])

    def add(self, table: Sheet) -> None:
        self.append(self.sheet(table.name, table.columns), table.rows)

    def save(self, target: IO[bytes]) -> None:
        self._book.save(target)

    def discard(self) -> None:
        """Remove the rows written so far (openpyxl's temporary files), unsaved: else they
        stay on disk until the process ends."""
        for sheet in self._book.worksheets:
            assert isinstance(sheet, WriteOnlyWorksheet)
            if not sheet.closed:
                sheet.close()
            # What saving does to each sheet once written into the file, without the file.
            writer = getattr(sheet, "_writer", None)
            if writer is not None:
                writer.cleanup()


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Cell) -> WorkbookCell | Cell:
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"  # never a formula, whatever the text begins with
    return cell


def xlsx_bytes(sheets: Iterable[Sheet]) -> bytes:
    book = XlsxBook()
    for table in sheets:
        book.add(table)
    target = io.BytesIO()
    book.save(target)
    return target.getvalue()


def saved(book: XlsxBook) -> IO[bytes]:
    """The workbook saved to a temporary file (in memory while small), read from its start."""
    target = tempfile.SpooledTemporaryFile(max_size=SPOOLED_BYTES)  # noqa: SIM115 - returned
    book.save(target)
    target.seek(0)
    return target


def chunks_of(source: IO[bytes]) -> Iterator[bytes]:
    """``source`` in chunks, closed once read to the end."""
    with source:
        while chunk := source.read(CHUNK_BYTES):
            yield chunk


def attachment(stem: str, extension: str) -> dict[str, str]:
    """The Content-Disposition header naming the file ``stem.extension``."""
    name = _UNSAFE_IN_FILENAME.sub("_", stem).strip("._") or "export"
    return {"Content-Disposition": f'attachment; filename="{name}.{extension}"'}
