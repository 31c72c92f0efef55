"""A minimal Django project with database sessions, behind LogoutMiddleware.

See ``wsgi.py`` for the lines a user adds. Run it::

    cd examples
    DJANGO_SETTINGS_MODULE=django_project.settings ../.venv/bin/django-admin migrate
    ../.venv/bin/gunicorn --workers 2 django_project.wsgi:application
"""
