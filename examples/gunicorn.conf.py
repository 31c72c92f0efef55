"""gunicorn settings for the demo (``make demo``) and a starting point for production.

``make demo`` runs::

    gunicorn --config examples/gunicorn.conf.py --bind 127.0.0.1:8000 \\
        --workers 2 --chdir examples demo:app

Command-line options win over this file. The SQLite store is one file shared by
every worker, so a logout answered by one worker ends a session created by another.
"""

import logging
import multiprocessing
import os

# Where to listen; the Makefile's --bind wins.
bind = os.environ.get("LOGOUT_DEMO_BIND", "127.0.0.1:8000")
# Worker processes: at least 2, so the demo shows workers sharing the session store.
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, min(4, multiprocessing.cpu_count()))))
# "sync" is fine behind a buffering proxy; "gthread" with threads > 1 for keep-alive.
worker_class = os.environ.get("LOGOUT_DEMO_WORKER_CLASS", "sync")
threads = int(os.environ.get("LOGOUT_DEMO_THREADS", "1"))
# Bounded request handling, and a quick, clean shutdown on SIGTERM.
timeout = 30
graceful_timeout = 10
keepalive = 2
# Access log on stdout. The default format logs the request line, never cookies:
# keep it that way, a session id in a log is a stolen session.
accesslog = "-"
# gunicorn's default format plus <pid>: which worker answered.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(p)s'
errorlog = "-"
loglevel = "info"

# The middleware's own log lines ("logout ok: session=<fingerprint> ...") and the
# demo's ("login: session=<fingerprint>"), next to gunicorn's, with the worker's pid.
# They carry fingerprints, never raw session ids. Workers are forked from the master,
# so they inherit this handler.
_handler = logging.StreamHandler()
_handler.setFormatter(
    logging.Formatter(
        "%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s",
        "[%Y-%m-%d %H:%M:%S %z]",
    )
)
for _name in ("logout_middleware", "demo"):
    _logger = logging.getLogger(_name)
    if not _logger.handlers:  # the file is read again on SIGHUP
        _logger.addHandler(_handler)
        _logger.setLevel(logging.INFO)

# gunicorn >= 24's runtime control socket (gunicornc) lives at one fixed path per
# user; the demo does not need it, and two demos would fight over it.
control_socket_disable = True
