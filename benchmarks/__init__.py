"""Benchmarks for logout-middleware: ``python -m benchmarks [--quick]``.

One process measures, side by side and in interleaved rounds, what the middleware
costs on requests it passes through, what a logout costs next to a hand-written
floor and to Flask's and Django's logouts, whether that cost grows with the number
of stored sessions, what gunicorn serves with and without it under ``wrk``, and
whether memory grows over a million pass-through requests. It prints a table and
the targets of issue 6 (PASS/MISS), and writes ``benchmarks/results/latest.json``.
"""
