"""The console's notification preferences page: the signed-in person's own categories.

The same choices as `PUT /api/v1/preferences/...` (api/preferences.py), from a form: each
non-critical category can be muted, every category can be read on a channel of one's choice.
Critical ones (tasks, compliance) show why their box cannot be ticked.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from wendu.api.deps import SessionDep
from wendu.api.preferences import CHANNELS, PreferenceIn, preferences_of, set_preference
from wendu.api.web_auth import CurrentUser, PostingUser
from wendu.api.web_ui import page
from wendu.preferences import CATEGORIES

router = APIRouter(tags=["console"])


def _employee(user) -> str:
    if not user.employee_id:
        raise HTTPException(404, detail="this account belongs to no employee: it receives no "
                                        "messages to choose for")
    return user.employee_id


@router.get("/console/preferences", response_class=HTMLResponse)
def preferences_page(request: Request, user: CurrentUser, session: SessionDep,
                     saved: bool = False) -> HTMLResponse:
    prefs = preferences_of(session, _employee(user))
    return page(request, "preferences.html", user, categories=prefs.categories,
                channels=CHANNELS, saved=saved, error=None)


@router.post("/console/preferences", response_class=HTMLResponse)
async def save_preferences(request: Request, user: PostingUser, session: SessionDep) -> Response:
    employee_id = _employee(user)
    form = await request.form()
    try:
        for name, category in CATEGORIES.items():
            channel = form.get(f"channel_{name}") or None
            choice = PreferenceIn(muted=form.get(f"muted_{name}") == "on" and not category.critical,
                                  channel=str(channel) if channel else None)
            set_preference(session, employee_id, name, choice)
    except HTTPException as exc:
        session.rollback()
        detail = exc.detail[0]["msg"] if isinstance(exc.detail, list) else str(exc.detail)
        prefs = preferences_of(session, employee_id)
        return page(request, "preferences.html", user, status_code=exc.status_code,
                    categories=prefs.categories, channels=CHANNELS, saved=False, error=detail)
    session.commit()
    return RedirectResponse("/console/preferences?saved=true", status_code=303)
