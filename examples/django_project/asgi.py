"""The ASGI entry point: Django's ASGI handler, wrapped by the ASGI LogoutMiddleware.

The same logout as ``wsgi.py``, served by an ASGI server::

    cd examples
    DJANGO_SETTINGS_MODULE=django_project.settings ../.venv/bin/python -m django migrate
    ../.venv/bin/uvicorn --workers 2 django_project.asgi:application

``logout_middleware.asgi.LogoutMiddleware`` takes the options of the WSGI class,
read from Django's settings as ``wsgi.py`` reads them, and answers the logout path and
``settings.LOGOUT_EVERYWHERE_PATH`` before Django sees them. The SQLite stores block,
so the middleware calls them in a worker thread, never on the event loop. Logins are
linked in the session index by ``wsgi.py``'s ``user_logged_in`` receiver, connected
with the index it writes (Django runs a sync view, and the signal it sends, in a
thread).
"""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

from logout_middleware import SQLiteBackend
from logout_middleware.asgi import LogoutMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_project.settings")
application = get_asgi_application()

# --- what a user adds ------------------------------------------------------------
# The session index, and the user_logged_in receiver that links each login in it, are
# wsgi.py's: importing it connects the receiver (the WSGI application it also builds
# is not served here).
from django_project.wsgi import index  # noqa: E402  (Django is set up by now)

application = LogoutMiddleware(
    application,
    SQLiteBackend(
        settings.DATABASES["default"]["NAME"],
        table="django_session",
        id_column="session_key",
        data_column="session_data",
        create_table=False,  # Django's migrations own the table
    ),
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
# ----------------------------------------------------------------------------------
