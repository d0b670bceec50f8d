""" "Stay signed in": the endpoint behind the pages' timeout warning.

``POST /session/extend`` starts the session's idle time again (never past its fixed end
or its sign-on token's expiry) and answers how long it now has: JSON for the warning's
script, a redirect back to the page for a plain form post. It checks the session's CSRF
token like every form; after the session has ended it sends the person to sign in.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from api.deps import ServicesDep, csrf_protect
from api.returns import form_page
from api.sessions import SESSION_COOKIE

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])


@router.post("/session/extend")
async def extend(services: ServicesDep, request: Request) -> Response:
    session = await services.web_sessions.extend(request.cookies.get(SESSION_COOKIE))
    wants_json = "application/json" in request.headers.get("accept", "")
    if session is None:
        if wants_json:
            return JSONResponse({"signed_in": False}, status_code=401)
        return RedirectResponse("/signin", status_code=303)
    if wants_json:
        return JSONResponse({"signed_in": True, **services.web_sessions.timing(session)})
    return RedirectResponse(form_page(request) or "/", status_code=303)
