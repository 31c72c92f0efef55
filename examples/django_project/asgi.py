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

from django.core.asgi import get_asgi_application

from logout_middleware.asgi import LogoutMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_project.settings")
application = get_asgi_application()

# --- what a user adds ------------------------------------------------------------
# The store and the settings are wsgi.py's, read from Django's; importing it also
# connects the user_logged_in receiver that links each login in the session index (the
# WSGI application it builds is not served here).
from django_project.wsgi import logout_options, sessions  # noqa: E402  (Django is set up)

application = LogoutMiddleware(application, sessions, **logout_options)
# ----------------------------------------------------------------------------------
