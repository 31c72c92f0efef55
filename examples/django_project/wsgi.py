"""The WSGI entry point: Django's application, wrapped by LogoutMiddleware.

The middleware deletes the ``django_session`` row named by the ``sessionid`` cookie
(Django's database sessions) and expires the cookie with Django's own attributes. It
also requires Django's CSRF convention, the ``X-CSRFToken`` header repeating the
``csrftoken`` cookie (what Django's documentation tells AJAX code to send), and
expires that cookie too.

Log out everywhere: Django's ``user_logged_in`` signal links each session key to the
user's id in a session index (its own table, ``session_index``, in the same SQLite
file), and ``settings.LOGOUT_EVERYWHERE_PATH`` ends every session of the current
user (``?keep_current=1``: every other one).
"""

import os
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest

from logout_middleware import LogoutMiddleware, SQLiteBackend, SQLiteSessionIndex

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_project.settings")
application = get_wsgi_application()

# --- what a user adds ------------------------------------------------------------
index = SQLiteSessionIndex(settings.DATABASES["default"]["NAME"])


def link_session(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """At every login: link the session key to the user's id (stable, unlike a
    username), for as long as the session lasts."""
    if request.session.session_key is None:  # login() flushed another user's session
        request.session.save()  # gives it its new key now
    key = request.session.session_key
    index.add(key, ttl=request.session.get_expiry_age(), user=str(user.pk))


# Connected where the index is built; in a project with apps of its own, an
# AppConfig.ready() is the usual place.
user_logged_in.connect(link_session, dispatch_uid="logout-middleware-link-session")

# The store and every setting, read from Django's (asgi.py serves the same).
sessions = SQLiteBackend(
    settings.DATABASES["default"]["NAME"],
    table="django_session",
    id_column="session_key",
    data_column="session_data",
    create_table=False,  # Django's migrations own the table
)
logout_options: dict[str, Any] = dict(
    cookie_name=settings.SESSION_COOKIE_NAME,
    cookie_path=settings.SESSION_COOKIE_PATH,
    cookie_domain=settings.SESSION_COOKIE_DOMAIN,
    cookie_secure=settings.SESSION_COOKIE_SECURE or None,
    cookie_httponly=settings.SESSION_COOKIE_HTTPONLY,
    cookie_samesite=settings.SESSION_COOKIE_SAMESITE or None,
    csrf_cookie_name=settings.CSRF_COOKIE_NAME,
    csrf_header_name="X-CSRFToken",
    csrf_cookie_path=settings.CSRF_COOKIE_PATH,
    csrf_cookie_domain=settings.CSRF_COOKIE_DOMAIN,
    index=index,
    everywhere_path=settings.LOGOUT_EVERYWHERE_PATH,
)
application = LogoutMiddleware(application, sessions, **logout_options)
# ----------------------------------------------------------------------------------
