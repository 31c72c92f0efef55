"""The WSGI entry point: Django's application, wrapped by LogoutMiddleware.

The middleware deletes the ``django_session`` row named by the ``sessionid`` cookie
(Django's database sessions) and expires the cookie with Django's own attributes. It
also requires Django's CSRF convention, the ``X-CSRFToken`` header repeating the
``csrftoken`` cookie (what Django's documentation tells AJAX code to send), and
expires that cookie too.
"""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from logout_middleware import LogoutMiddleware, SQLiteBackend

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_project.settings")
application = get_wsgi_application()

# --- what a user adds ------------------------------------------------------------
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
)
# ----------------------------------------------------------------------------------
