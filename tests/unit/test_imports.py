"""The WSGI core imports no framework and no backend client.

(`paste` is left out of the check: PasteDeploy's namespace .pth file imports it at
interpreter start, whatever is imported afterwards.)
"""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_package_imports_no_framework_or_backend_client() -> None:
    code = (
        "import sys, logout_middleware\n"
        "from logout_middleware import LogoutMiddleware, SQLiteBackend, signed_session_id\n"
        "from logout_middleware import RevocationFilter, MemoryRevocationStore\n"
        "from logout_middleware import SessionIndex, MemorySessionIndex, SQLiteSessionIndex\n"
        "from logout_middleware import RedisSessionIndex, SQLAlchemySessionIndex\n"
        "heavy = {'redis', 'sqlalchemy', 'itsdangerous', 'flask', 'django', 'pyramid',"
        " 'webob', 'beaker'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_every_public_name_resolves() -> None:
    import logout_middleware

    for name in logout_middleware.__all__:
        assert getattr(logout_middleware, name) is not None
