"""Log-in for people in a browser: the API key typed once, then kept in a cookie.

A browser sends no API key header when it opens a page, and EventSource cannot
send one at all. So ``/login`` takes the key in a form, checks it with the key
store and sets it in a cookie that is HttpOnly (no script reads it),
SameSite=Strict (no other site's page makes the browser send it) and, in
production, Secure. The gatekeeper accepts the cookie for GET and HEAD only:
a write still needs the key in a header, so no cross-site form can ride on it.
"""

from typing import Annotated
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from ucap_gateway.attempts import authenticate
from ucap_gateway.render import page
from ucap_shared import bounds

COOKIE = "ucap_key"
SESSION_SECONDS = 8 * 3600
LOGIN_PATHS = ("/login", "/logout")
DEFAULT_NEXT = "/programme/status"
FORM = "application/x-www-form-urlencoded"

# Pages for people, not operations of the API: kept out of the OpenAPI document.
router = APIRouter(tags=["log-in"], include_in_schema=False)


class UnsafeNextError(ValueError):
    """``next`` is not a path on this site."""


def local_path(candidate: str | None) -> str:
    """``candidate`` if it is a path on this site; the programme page when absent."""
    if not candidate:
        return DEFAULT_NEXT
    parts = urlsplit(candidate)
    # "//host" and "/\host" are other hosts to a browser; control characters are never needed.
    if (
        len(candidate) > bounds.URL_CHARS
        or parts.scheme
        or parts.netloc
        or not candidate.startswith("/")
        or candidate.startswith("//")
        or "\\" in candidate
        or any(ord(char) < 0x20 or ord(char) == 0x7F for char in candidate)
    ):
        raise UnsafeNextError(candidate)
    return candidate


def login_url(request: Request) -> str:
    """Where to send a browser that asked for a page without a key: back here afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?{urlencode({'next': here})}"


def _form_page(next_path: str, *, message: str | None, status_code: int) -> HTMLResponse:
    return HTMLResponse(
        page(
            "login.html.j2",
            next_path=next_path,
            message=message,
            hours=SESSION_SECONDS // 3600,
        ),
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


def _refusal(message: str, status_code: int) -> HTMLResponse:
    return _form_page(DEFAULT_NEXT, message=message, status_code=status_code)


def _same_origin(request: Request) -> bool:
    """A form posted from another site names it in Origin; browsers always send it on POST."""
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host")


async def _form_fields(request: Request) -> dict[str, str] | None:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM:
        return None
    fields = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=10)
    return {name: values[0] for name, values in fields.items()}


@router.get("/login", summary="The log-in form (for a browser)", response_class=HTMLResponse)
async def login_form(next_: Annotated[str | None, Query(alias="next")] = None) -> Response:
    try:
        return _form_page(local_path(next_), message=None, status_code=200)
    except UnsafeNextError:
        return _refusal("After log-in you can only go to a page of this site.", 400)


@router.post(
    "/login",
    summary="Log in with an API key (form field `key`); sets the session cookie",
    response_class=HTMLResponse,
    responses={303: {"description": "Logged in: on to `next`"}, 401: {"description": "Bad key"}},
)
async def log_in(request: Request) -> Response:
    if not _same_origin(request):
        return _refusal("Log in from this site's own form.", 403)
    fields = await _form_fields(request)
    if fields is None:
        return _refusal("Send the form as application/x-www-form-urlencoded.", 415)
    try:
        next_path = local_path(fields.get("next"))
    except UnsafeNextError:
        return _refusal("After log-in you can only go to a page of this site.", 400)
    key = fields.get("key", "").strip()
    record = await authenticate(request, key) if key else None
    if isinstance(record, Response):
        return record
    if record is None:
        return _form_page(next_path, message="Unknown or revoked API key.", status_code=401)
    answer = RedirectResponse(next_path, status_code=303)
    answer.set_cookie(
        COOKIE,
        key,
        max_age=SESSION_SECONDS,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.app.state.runtime.settings.production,
    )
    return answer


@router.post(
    "/logout",
    summary="Forget the session cookie",
    responses={303: {"description": "Logged out: on to the log-in form"}},
)
async def log_out(request: Request) -> Response:
    if not _same_origin(request):
        return _refusal("Log out from this site's own pages.", 403)
    answer = RedirectResponse("/login", status_code=303)
    forget_session(answer, secure=request.app.state.runtime.settings.production)
    return answer


def forget_session(response: Response, *, secure: bool) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=secure)
