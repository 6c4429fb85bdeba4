"""Cells safe to open in a spreadsheet, for every CSV file researchers download.

A cell starting with a formula trigger would be run by Excel or LibreOffice,
so it is quoted away (app.services.export does the same in SQL).
"""

#: Characters that make a spreadsheet treat a cell as a formula or a command.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(value: object) -> str:
    """Text safe to open in a spreadsheet: a leading formula trigger is quoted away."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text
