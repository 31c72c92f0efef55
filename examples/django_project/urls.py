"""Two views: who is logged in, and a login form that uses django.contrib.auth.

To a logged-in user the page shows "Log out", "Sign out of other devices" and "Sign
out everywhere": each posts to LogoutMiddleware (wsgi.py) with Django's AJAX CSRF
convention, the ``X-CSRFToken`` header repeating the ``csrftoken`` cookie.
"""

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.urls import path
from django.utils.html import escape
from django.views.decorators.http import require_POST

from logout_middleware import DEFAULT_LOGOUT_PATH

EVERYWHERE = settings.LOGOUT_EVERYWHERE_PATH
BUTTONS = f"""<button type="button" id="logout" data-url="{DEFAULT_LOGOUT_PATH}">Log out</button>
<button type="button" id="sign-out-others" data-url="{EVERYWHERE}?keep_current=1">
Sign out of other devices</button>
<button type="button" id="sign-out-everywhere" data-url="{EVERYWHERE}">Sign out everywhere</button>
<script>
const csrf = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
for (const button of document.querySelectorAll("button[data-url]")) {{
  button.addEventListener("click", async () => {{
    const headers = {{"X-CSRFToken": csrf ? csrf.slice("csrftoken=".length) : ""}};
    await fetch(button.dataset.url, {{method: "POST", headers}});
    location.reload();
  }});
}}
</script>"""


def index(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        name, body = request.user.get_username(), BUTTONS
    else:
        name = "anonymous"
        body = (
            '<form method="post" action="/login">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{get_token(request)}">'
            '<input name="username" required> <button>Log in</button></form>'
        )
    return HttpResponse(
        f'<!doctype html><title>Django example</title>'
        f'<p>Logged in as <strong id="user">{escape(name)}</strong></p>{body}'
    )


@require_POST
def login_view(request: HttpRequest) -> HttpResponse:
    username = request.POST.get("username", "").strip()[:64]
    if not username:
        return HttpResponseBadRequest("a username, please")
    # A demo: anyone may log in under any name (no password).
    user, _ = get_user_model().objects.get_or_create(username=username)
    login(request, user)
    return HttpResponseRedirect("/")


urlpatterns = [path("", index), path("login", login_view)]
