"""CSV exports of HR's lists: what the page shows, for a spreadsheet.

UTF-8 with a byte order mark, so Excel opens Chinese names as Chinese rather than mojibake;
a header row in the reader's language; times in their time zone; statuses and outcomes in
words. No free text people wrote: tasks give their title, notifications their subject line.
A cell a spreadsheet would run as a formula (=, +, -, @) is quoted as text. Each export is
written to the audit log with its filters and row count before the file is sent.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from wendu.api.hr_lists import ListFilters
from wendu.api.web_accounts import SessionUser, audit
from wendu.api.web_auth import client_ip
from wendu.localize import zone

BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# list -> (column key, header string key, how the value is shown: None, "time" or a prefix of
# the string keys that name its values)
COLUMNS: dict[str, list[tuple[str, str, str | None]]] = {
    "tasks": [("id", "col_id", None), ("title", "col_title", None),
              ("rule_id", "filter_rule", None), ("status", "col_status", "st_task_"),
              ("assignee_id", "col_assignee", None), ("assignee_name", "emp_name", None),
              ("subject_id", "col_subject", None), ("subject_name", "col_subject_name", None),
              ("escalation_level", "col_escalation", None),
              ("created_at", "col_created", "time"), ("due_at", "col_due", "time"),
              ("closed_at", "col_closed", "time")],
    "firings": [("id", "col_id", None), ("rule_id", "filter_rule", None),
                ("employee_id", "emp_id", None), ("employee_name", "emp_name", None),
                ("created_at", "when", "time"), ("status", "col_status", "st_firing_"),
                ("outcome", "col_outcome", "outcome_"), ("messages", "col_messages", None),
                ("tasks", "col_tasks", None), ("error", "col_error", None)],
    "notifications": [("id", "col_id", None), ("rule_id", "filter_rule", None),
                      ("recipient_id", "col_recipient", None),
                      ("recipient_name", "emp_name", None),
                      ("subject_id", "col_subject", None),
                      ("subject_name", "col_subject_name", None),
                      ("channel", "col_channel", "channel_"),
                      ("status", "col_status", "st_note_"),
                      ("subject", "col_subject_line", None), ("error", "col_error", None),
                      ("created_at", "col_created", "time"), ("sent_at", "col_sent", "time"),
                      ("read_at", "col_read", "time")],
}


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(which: str, rows: list[dict[str, Any]], t: Callable[[str], str], tz: str) -> str:
    where = zone(tz)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = []
    for _, title, kind in COLUMNS[which]:
        header.append(f"{t(title)} ({tz})" if kind == "time" else t(title))
    writer.writerow(header)
    for row in rows:
        cells = []
        for key, _, kind in COLUMNS[which]:
            value = row.get(key)
            if kind == "time":
                value = value.astimezone(where).strftime("%Y-%m-%d %H:%M") \
                    if isinstance(value, datetime) else ""
            elif kind and value is not None:
                named = t(f"{kind}{value}")
                value = value if named == f"{kind}{value}" else named
            cells.append(_cell(value))
        writer.writerow(cells)
    return BOM + out.getvalue()


def csv_export(request: Request, session: Session, user: SessionUser, which: str,
               rows: list[dict[str, Any]], f: ListFilters, t: Callable[[str], str],
               tz: str) -> Response:
    """The rows as a CSV download; the export is audited (filters, rows) first."""
    body = to_csv(which, rows, t, tz)
    audit(session, user.username, f"export.{which}", "export", which, ip=client_ip(request),
          after={"filters": f.audit(), "rows": len(rows)})
    session.commit()
    stamp = datetime.now(zone(tz)).strftime("%Y%m%d-%H%M")
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition":
                             f'attachment; filename="wendu-{which}-{stamp}.csv"'})
