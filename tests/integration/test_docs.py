"""Every code block of the documentation (docs/ and README.md) runs, so none can rot.

The conventions are written down for authors in ``docs/development.rst`` ("The
documentation"); in short:

* ``python`` blocks run in order in one namespace per page, shared with the page's
  ``pycon`` blocks (doctests), in a fresh temporary directory, in a subprocess, with
  ``examples/`` importable. A block with ``:caption: NAME`` is a file written there
  first, and a later block of the page must use it.
* ``sh`` blocks run under ``bash -e`` in that directory, or in the checkout after
  ``docs-test: cwd=checkout``, or in a fresh copy of the checkout after
  ``docs-test: cwd=copy``. A command ending in ``# serves URL`` runs in a private
  network namespace until ``URL`` answers ``200``. Commands in ``NOT_RUN`` get the
  check listed there instead.
* ``js`` blocks need ``docs-test: check=demo-page``.
* ``literalinclude`` shows only files of ``examples/``, which their own tests run.

Anything else (a bare ``::`` block, an unknown language, an unused file) fails.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import shlex
import shutil
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
VENV_BIN = Path(sys.executable).parent
README_LIMIT = 15_000

# Commands too long or recursive to run inside the test suite, with the reason and
# the commands (run in the checkout) that check them instead: each must exit 0 and
# print every expected string.
NOT_RUN: dict[str, tuple[str, list[str], list[str]]] = {
    "make test": (
        "runs this very test",
        ["make -n test"],
        ["ruff check", "mypy --strict", "-m pytest", "sphinx-build -W"],
    ),
    "make soak": (
        "the long campaigns take more than 20 minutes",
        ["make -n soak", f"{VENV_BIN}/python -m pytest --collect-only -q -m soak tests"],
        ["LOGOUT_MIDDLEWARE_SOAK=1", "-m soak", "tests collected"],
    ),
    "make bench": (
        "minutes of CPU on every core; the benchmarks have their own smoke run",
        ["make -n bench", f"{VENV_BIN}/python -m benchmarks --help"],
        ["-m benchmarks", "--only"],
    ),
    "make bench-quick": (
        "CI runs it on its own, on an idle machine",
        ["make -n bench-quick", f"{VENV_BIN}/python -m benchmarks --help"],
        ["-m benchmarks --quick", "--quick"],
    ),
    ".venv/bin/pytest tests/reliability/test_fuzz.py": (
        "the same pytest run already runs these tests",
        [".venv/bin/pytest --collect-only -q tests/reliability/test_fuzz.py"],
        ["collected"],
    ),
    "RELIABILITY_REPORT=figures.jsonl .venv/bin/pytest tests/reliability/": (
        "the same pytest run already runs these tests",
        [
            "RELIABILITY_REPORT=figures.jsonl .venv/bin/pytest --collect-only -q "
            "tests/reliability/"
        ],
        ["collected"],
    ),
}

# Databases of the examples, moved out of the checkout while the docs' commands run.
DB_VARIABLES = ("LOGOUT_DEMO_DB", "DJANGO_EXAMPLE_DB", "FLASK_EXAMPLE_DB", "PYRAMID_EXAMPLE_DB")
# What literalinclude may show: each file of examples/ and the test that runs it.
TESTED_EXAMPLES = {
    "examples/demo.py": "tests/integration/test_example_demo.py",
    "examples/flask_app.py": "tests/integration/test_example_flask.py",
    "examples/django_project/wsgi.py": "tests/integration/test_example_django.py",
    "examples/pyramid_app.py": "tests/integration/test_example_pyramid.py",
    "examples/oidc_app.py": "tests/integration/test_example_oidc.py",
    "examples/starlette_app.py": "tests/integration/test_example_starlette.py",
    "examples/fastapi_app.py": "tests/integration/test_example_fastapi.py",
    "examples/django_project/asgi.py": "tests/integration/test_example_django_asgi.py",
}
SERVES = re.compile(r"^serves\s+(\S+)")


@dataclass
class Block:
    page: str  # path relative to the checkout
    line: int  # 1-based line of the block's first content line
    language: str
    code: str
    options: dict[str, str] = field(default_factory=dict)  # docs-test: key=value
    caption: str | None = None
    include: str | None = None  # literalinclude target, relative to the checkout

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def _annotation(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in text.split())


def _previous_annotation(lines: list[str], index: int, pattern: re.Pattern[str]) -> dict[str, str]:
    i = index - 1
    while i >= 0 and not lines[i].strip():
        i -= 1
    match = pattern.match(lines[i].strip()) if i >= 0 else None
    return _annotation(match.group(1)) if match else {}


RST_ANNOTATION = re.compile(r"\.\. docs-test:(.*)$")
MD_ANNOTATION = re.compile(r"<!-- docs-test:(.*)-->$")
RST_DIRECTIVE = re.compile(r"^(\s*)\.\. ([\w-]+)::\s*(.*)$")


def parse_rst(path: Path) -> list[Block]:
    """The code blocks of a reST page; a literal block of any other kind fails."""
    page = str(path.relative_to(ROOT))
    lines = path.read_text().splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        directive = RST_DIRECTIVE.match(line)
        if directive is None:
            if line.rstrip().endswith("::") and not line.strip().startswith(".."):
                pytest.fail(f"{page}:{i + 1}: a bare '::' literal block; use .. code-block::")
            i += 1
            continue
        indent, name, argument = len(directive.group(1)), directive.group(2), directive.group(3)
        if name in ("code", "sourcecode", "highlight", "doctest", "testcode", "code-cell"):
            pytest.fail(f"{page}:{i + 1}: use .. code-block:: LANG, not .. {name}::")
        if name not in ("code-block", "literalinclude"):
            i += 1
            continue
        options = _previous_annotation(lines, i, RST_ANNOTATION)
        j, caption = i + 1, None
        while j < len(lines) and re.match(r"\s+:[\w-]+:", lines[j]):
            if lines[j].strip().startswith(":caption:"):
                caption = lines[j].split(":caption:", 1)[1].strip()
            j += 1
        if name == "literalinclude":
            target = (path.parent / argument).resolve().relative_to(ROOT)
            blocks.append(Block(page, i + 1, "include", "", options, include=str(target)))
            i = j
            continue
        body: list[str] = []
        while j < len(lines) and (
            not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) > indent
        ):
            body.append(lines[j])
            j += 1
        start = (
            i
            + 1
            + next(
                k
                for k, b in enumerate(lines[i + 1 :], 1)
                if b.strip() and not re.match(r"\s+:[\w-]+:", b)
            )
        )
        code = textwrap.dedent("\n".join(body)).strip("\n") + "\n"
        blocks.append(Block(page, start, argument.strip(), code, options, caption))
        i = j
    return blocks


def parse_markdown(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown page (README.md, docs/*.md)."""
    page = str(path.relative_to(ROOT))
    lines = path.read_text().splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        fence = re.match(r"^(\s*)(```+|~~~+)\s*([\w+-]*)", lines[i])
        if fence is None:
            i += 1
            continue
        indent, marker, language = len(fence.group(1)), fence.group(2), fence.group(3)
        if not language:
            pytest.fail(f"{page}:{i + 1}: a code fence without a language")
        options = _previous_annotation(lines, i, MD_ANNOTATION)
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(marker):
            j += 1
        code = "\n".join(line[indent:] for line in lines[i + 1 : j]) + "\n"
        blocks.append(Block(page, i + 2, language, code, options))
        i = j + 1
    return blocks


def doc_pages() -> list[Path]:
    return sorted(DOCS.glob("*.rst")) + sorted(DOCS.glob("*.md")) + [README]


def all_blocks() -> list[Block]:
    blocks: list[Block] = []
    for path in doc_pages():
        blocks += parse_rst(path) if path.suffix == ".rst" else parse_markdown(path)
    return blocks


BLOCKS = all_blocks()
PYTHON_PAGES = sorted({b.page for b in BLOCKS if b.language in ("python", "pycon")})


def by_kind(*languages: str) -> list[Block]:
    return [b for b in BLOCKS if b.language in languages and b.caption is None]


# --- the environment every block runs in -------------------------------------------


@pytest.fixture(autouse=True)
def _not_inside_a_docs_test() -> None:
    # `make test` in the docs must never run this test again from inside itself.
    if os.environ.get("LOGOUT_DOCS_TEST") == "1":
        pytest.fail("tests/integration/test_docs.py was started by a command of the docs it checks")


def block_env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(VENV_BIN), str(ROOT / ".venv/bin"), env.get("PATH", "")])
    env["LOGOUT_DOCS_TEST"] = "1"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "examples"), env.get("PYTHONPATH", "")])
    for name in DB_VARIABLES:
        env[name] = str(workdir / f"{name.lower()}.sqlite3")
    # The Starlette example's revocation store is a URL.
    env["STARLETTE_EXAMPLE_REVOKED"] = f"sqlite:///{workdir / 'starlette_revoked.sqlite3'}"
    env.pop("PYTHONDEVMODE", None)
    return env


def write_files(page: str, workdir: Path) -> None:
    """Write the page's ``:caption: NAME`` blocks into ``workdir``."""
    blocks = [b for b in BLOCKS if b.page == page]
    for index, block in enumerate(blocks):
        if block.caption is None:
            continue
        assert re.fullmatch(r"[\w.-]+", block.caption), f"{block.id}: caption is a file name"
        later = " ".join(b.code for b in blocks[index + 1 :])
        assert block.caption in later, f"{block.id}: no later block uses {block.caption}"
        (workdir / block.caption).write_text(block.code)


# --- Python and doctest -------------------------------------------------------------

RUNNER = r"""
import doctest, json, sys, traceback
blocks = json.load(open(sys.argv[1]))
namespace = {"__name__": "__docs__"}
runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
failed = 0
for block in blocks:
    where = f"{block['id']} ({block['language']})"
    if block["language"] == "python":
        try:
            exec(compile(block["code"], where, "exec"), namespace)
        except BaseException:
            print(f"{where} raised:", traceback.format_exc(), sep="\n")
            failed += 1
            break
    else:
        test = doctest.DocTestParser().get_doctest(block["code"], namespace, where, where, 0)
        result = runner.run(test, clear_globs=False)
        namespace.update(test.globs)
        failed += result.failed
print(f"{len(blocks)} blocks, {failed} failed")
sys.exit(1 if failed else 0)
"""


@pytest.mark.parametrize("page", PYTHON_PAGES)
def test_python_and_pycon_blocks_run(page: str, tmp_path: Path) -> None:
    write_files(page, tmp_path)
    blocks = [
        {"id": b.id, "language": b.language, "code": b.code}
        for b in BLOCKS
        if b.page == page and b.language in ("python", "pycon") and b.caption is None
    ]
    (tmp_path / "_blocks.json").write_text(json.dumps(blocks))
    (tmp_path / "_runner.py").write_text(RUNNER)
    result = subprocess.run(
        [sys.executable, "_runner.py", "_blocks.json"],
        cwd=tmp_path,
        env=block_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- shell --------------------------------------------------------------------------

SERVE_HELPER = r"""
import os, signal, subprocess, sys, time, urllib.request
url, command = sys.argv[1], sys.argv[2]
log = open(os.path.join(os.path.dirname(__file__), "_server.log"), "w+b")
server = subprocess.Popen(["bash", "-c", command], stdout=log, stderr=subprocess.STDOUT,
                          start_new_session=True)
deadline, status = time.monotonic() + 90, None
while time.monotonic() < deadline and server.poll() is None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            status = response.status
            break
    except OSError:
        time.sleep(0.25)
alive = server.poll() is None
if alive:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
log.seek(0)
if status != 200 or not alive:
    sys.stdout.write(log.read().decode("utf-8", "replace")[-4000:])
    sys.exit(f"{command!r} did not serve {url} (status {status}, alive {alive})")
print(f"{command!r} served {url}: {status}")
"""


def shell_commands(code: str) -> list[tuple[str, str]]:
    """``(command, comment)`` per logical line; comment-only lines are dropped."""
    commands: list[tuple[str, str]] = []
    pending = ""
    for raw in code.splitlines():
        line = pending + raw.strip()
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        command, comment = line, ""
        for match in re.finditer(r"(^|\s)#", line):  # the first # outside quotes
            before = line[: match.start()]
            if before.count("'") % 2 == 0 and before.count('"') % 2 == 0:
                command, comment = before.strip(), line[match.end() :].strip()
                break
        command = " ".join(command.split())
        if command:
            commands.append((command, comment))
    assert not pending, "a shell block ends with a continuation"
    return commands


def copy_of_checkout(destination: Path) -> Path:
    files = (
        subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file() and not name.startswith("docs/_build"):
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def run_checked(command: str, cwd: Path, env: dict[str, str], expect: list[str]) -> None:
    result = subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{command!r} failed:\n{output[-4000:]}"
    for text in expect:
        assert text in output, f"{command!r} did not print {text!r}:\n{output[-4000:]}"


def shell_params() -> list[object]:
    # Blocks that start a server carry the suite's `gunicorn` marker, as other
    # tests that start one do.
    return [
        pytest.param(b, id=b.id, marks=[pytest.mark.gunicorn] if "serves" in b.code else [])
        for b in by_kind("sh")
    ]


@pytest.mark.parametrize("block", shell_params())
def test_shell_blocks_run(block: Block, tmp_path: Path) -> None:
    unknown = set(block.options) - {"cwd"}
    assert not unknown, f"{block.id}: unknown docs-test options {unknown}"
    where = block.options.get("cwd", "workdir")
    workdir = tmp_path / "work"
    workdir.mkdir()
    write_files(block.page, workdir)
    cwd = {"workdir": workdir, "checkout": ROOT}.get(where)
    if where == "copy":
        cwd = copy_of_checkout(tmp_path / "copy")
    assert cwd is not None, f"{block.id}: cwd must be workdir, checkout or copy"
    env = block_env(workdir)
    (workdir / "_serve.py").write_text(SERVE_HELPER)
    script = ["set -euo pipefail"]
    serves = False
    for command, comment in shell_commands(block.code):
        if command in NOT_RUN:
            _reason, checks, expect = NOT_RUN[command]
            run_checked(" && ".join(checks), ROOT, env, expect)
            continue
        served = SERVES.search(comment)
        if served:
            serves = True
            url = served.group(1)
            assert url.startswith("http://127.0.0.1:"), f"{block.id}: serve on 127.0.0.1 only"
            script.append(
                f"{shlex.quote(sys.executable)} {workdir / '_serve.py'} "
                f"{shlex.quote(url)} {shlex.quote(command)}"
            )
        else:
            script.append(command)
    argv = ["bash", "-c", "\n".join(script)]
    if serves:
        # A network namespace of its own: loopback only, and port 8000 is free there.
        if shutil.which("unshare") is None:
            pytest.fail("the docs' server commands need unshare (util-linux)")
        argv = [
            "unshare",
            "--user",
            "--map-root-user",
            "--net",
            "bash",
            "-c",
            "ip link set lo up && exec bash -c " + shlex.quote("\n".join(script)),
        ]
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the block's whole process group
        output, _ = process.communicate()
        pytest.fail(f"{block.id} did not finish in 300 s:\n{output[-6000:]}")
    assert process.returncode == 0, f"{block.id} failed in {cwd}:\n{block.code}\n{output[-6000:]}"


# --- JavaScript, includes, and the blocks nobody checks ------------------------------


@pytest.mark.parametrize("block", by_kind("js"), ids=lambda b: b.id)
def test_js_blocks_are_the_demo_pages_own(block: Block, tmp_path: Path) -> None:
    assert block.options == {"check": "demo-page"}, f"{block.id}: js needs check=demo-page"
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to check the docs' JavaScript")
    (tmp_path / "snippet.mjs").write_text(
        "function readCookie(name) { return name; }\n" + block.code
    )
    subprocess.run([node, "--check", str(tmp_path / "snippet.mjs")], check=True)

    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import demo
    finally:
        sys.path.remove(str(ROOT / "examples"))
    import webtest

    app = webtest.TestApp(demo.make_app(tmp_path / "demo.sqlite3"))
    app.post("/login", {"username": "ada"}, status=303)
    page = [line.strip() for line in app.get("/").text.splitlines()]
    position = 0
    for line in filter(None, (raw.strip() for raw in block.code.splitlines())):
        assert line in page[position:], f"{block.id}: {line!r} is not in the demo's page"
        position = page.index(line, position) + 1


@pytest.mark.parametrize("block", by_kind("include"), ids=lambda b: b.id)
def test_included_files_are_tested_examples(block: Block) -> None:
    assert block.include in TESTED_EXAMPLES, f"{block.id}: {block.include} is not a tested example"
    test = ROOT / TESTED_EXAMPLES[block.include]
    module = Path(block.include).with_suffix("").relative_to("examples").as_posix()
    assert module.replace("/", ".") in test.read_text(), f"{test} does not load {module}"


def test_every_block_has_a_check() -> None:
    known = {"python", "pycon", "sh", "js", "include"}
    for block in BLOCKS:
        if block.caption is not None:
            continue  # a file: written for the page's other blocks, which must use it
        assert block.language in known, f"{block.id}: no check for {block.language!r} blocks"
    for command in NOT_RUN:
        assert any(command in [c for c, _ in shell_commands(b.code)] for b in by_kind("sh")), (
            f"NOT_RUN lists {command!r}, which no page has any more"
        )


def test_the_parser_finds_every_block_sphinx_renders(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-q",
            "-b",
            "dummy",
            "-d",
            str(tmp_path / "doctrees"),
            str(DOCS),
            str(tmp_path / "out"),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    from docutils import nodes

    for path in sorted((tmp_path / "doctrees").glob("*.doctree")):
        page = f"docs/{path.stem}"
        with path.open("rb") as f:
            doctree = pickle.load(f)  # Sphinx's own output, just built
        rendered = 0
        for node in doctree.findall(nodes.literal_block):
            source = node.get("source") or node.source or ""
            if "docstring of" in source:
                continue  # the package's docstrings: the reference pages
            rendered += 1
        parsed = [b for b in BLOCKS if Path(b.page).with_suffix("").as_posix() == page]
        assert rendered == len(parsed), (
            f"{page}: Sphinx renders {rendered} literal blocks, the test found {len(parsed)}"
        )


# --- the README ---------------------------------------------------------------------


def test_readme_is_a_landing_page_that_links_into_the_docs() -> None:
    size = len(README.read_bytes())
    assert size <= README_LIMIT, f"README.md is {size} bytes; at most {README_LIMIT}"
    links = re.findall(r"\]\((docs/[^)#]+)", README.read_text())
    assert links, "README.md links into the docs"
    for link in links:
        assert (ROOT / link).is_file(), f"README.md links to {link}, which does not exist"
