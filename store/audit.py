"""The audit log's one writer: who changed what, before and after, in the change's own
transaction.

Console actions, account changes and API token changes all record here, so an HR or security
review reads one table (`audit_log`). Changes made at the command line name the operating
system user (`cli:<user>`); changes made by code with no person behind them say `system`.
"""

from __future__ import annotations

import getpass
from typing import Any

from sqlalchemy.orm import Session

from wendu.store.models import utcnow
from wendu.store.models_accounts import AuditLog

SYSTEM = "system"


def audit(session: Session, actor: str, action: str, target_type: str, target_id: str, *,
          before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
          ip: str | None = None, note: str | None = None) -> None:
    """One audit record; written in the caller's transaction so the change and its record
    commit together."""
    session.add(AuditLog(actor=actor[:100], action=action, target_type=target_type,
                         target_id=str(target_id)[:200], before=before, after=after, ip=ip,
                         note=note, at=utcnow()))


def cli_actor() -> str:
    """Who runs a `wendu` command, for the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a bare container
        return "cli"
