"""Two views: who is logged in, and a login form that uses django.contrib.auth."""

from django.contrib.auth import get_user_model, login
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.urls import path
from django.utils.html import escape
from django.views.decorators.http import require_POST


def index(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        name, body = request.user.get_username(), ""
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
