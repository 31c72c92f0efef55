"""A minimal Django project with database sessions, behind LogoutMiddleware.

See ``wsgi.py`` for the lines a user adds. Run it from ``examples/`` (``python -m
django`` puts the current directory on ``sys.path``; ``django-admin`` does not, and
cannot import ``django_project``); ``docs/django.rst`` holds the same commands, run by
the test suite::

    cd examples
    DJANGO_SETTINGS_MODULE=django_project.settings ../.venv/bin/python -m django migrate
    ../.venv/bin/gunicorn --workers 2 django_project.wsgi:application
"""
