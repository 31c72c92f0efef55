"""Report a mutmut run (``make mutate``): the share of behaviour-changing mutants killed.

Reads the results mutmut left in ``mutants/`` and sorts every mutant into one of:

* **message-only**: the mutated function differs from the original only in a
  docstring, in the arguments of a ``raise``'d exception (its message), in the
  positional arguments of a ``logger.<level>(...)`` call (the log text; keyword
  arguments such as ``exc_info`` still count as behaviour), or in the ``what``
  argument of the setting checks in :data:`MESSAGE_ARGUMENT` (the setting's name,
  used in their error messages only). Decided by comparing the two functions' syntax
  trees with those parts blanked, not by looking at names of mutants.
* **equivalent**: listed in :data:`EQUIVALENT` below with the reason no test can tell
  it from the original. An entry holds a hash of the mutant's source: when the code
  changes, the entry goes stale, is reported, and no longer counts.
* everything else is **behaviour-changing**.

The score is ``killed / behaviour-changing`` (a timeout counts as killed: the mutant
made a test hang; timeouts are reported apart too).

Usage::

    python tools/mutation_report.py            # the figures, per module and in total
    python tools/mutation_report.py --list     # and each surviving mutant, with its diff
    python tools/mutation_report.py --min 90   # exit 1 below 90 %
"""

from __future__ import annotations

import argparse
import ast
import copy
import difflib
import hashlib
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"

#: mutmut's exit codes (mutmut/stats.py), folded into the states reported here.
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests",
          34: "skipped", 36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout",
          255: "timeout", 37: "type check", -11: "crashed", -9: "crashed", None: "not checked"}

#: Surviving mutants that no test can tell from the original, and why:
#: name -> (first 12 hex digits of SHA-256 of the mutant function's source, reason).
EQUIVALENT: dict[str, tuple[str, str]] = {}

#: Checks whose argument at this position (or keyword ``what``) only names the setting
#: in the message of the ValueError they raise (see logout_middleware/_validation.py).
MESSAGE_ARGUMENT = {
    "positive_seconds": 1, "byte_count": 1, "flag": 1, "strings": 1, "optional_strings": 1,
    "callables": 1, "key_prefix": 1, "identifier": 1, "printable_path": 1,
    "validate_domain": 1,
}

_LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "log"}


@dataclass
class Mutant:
    name: str
    module: str
    status: str
    kind: str  # "behaviour", "message-only" or "equivalent"
    diff: str
    digest: str


class _Blank(ast.NodeTransformer):
    """Blank what a message-only mutant may change: docstrings, exception arguments
    and the positional arguments of logger calls."""

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.name = "f"
        # The default of a ``what`` parameter (key_prefix) only names the setting.
        arguments = node.args.args
        defaults = node.args.defaults
        for arg, default in zip(arguments[len(arguments) - len(defaults):], defaults,
                                strict=True):
            if arg.arg == "what" and isinstance(default, ast.Constant):
                default.value = ""
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
        self.generic_visit(node)
        return node

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Raise(self, node: ast.Raise) -> ast.AST:
        if isinstance(node.exc, ast.Call):
            node.exc.args = []
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in _LOG_METHODS
            and isinstance(func.value, ast.Name)
            and func.value.id == "logger"
        ):
            node.args = []
        name = func.id if isinstance(func, ast.Name) else None
        if name in MESSAGE_ARGUMENT:
            position = MESSAGE_ARGUMENT[name]
            if len(node.args) > position:
                node.args[position] = ast.Constant("")
            node.keywords = [k for k in node.keywords if k.arg != "what"]
        return node


def _normal(node: ast.AST) -> str:
    return ast.dump(_Blank().visit(copy.deepcopy(node)), include_attributes=False)


def _functions(path: Path) -> tuple[str, dict[str, ast.AST]]:
    source = path.read_text("utf-8")
    found = {
        n.name: n
        for n in ast.walk(ast.parse(source))
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and "__mutmut_" in n.name
    }
    return source, found


def collect() -> list[Mutant]:
    mutants: list[Mutant] = []
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        source_path = meta.with_suffix("")  # x.py.meta -> x.py
        module = source_path.relative_to(MUTANTS).with_suffix("").as_posix().replace("/", ".")
        codes = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
        source, functions = _functions(source_path)
        for key, code in codes.items():
            local = key[len(module) + 1 :]
            original = functions.get(local.rsplit("__mutmut_", 1)[0] + "__mutmut_orig")
            mutated = functions.get(local)
            if original is None or mutated is None:  # pragma: no cover - mutmut changed
                raise SystemExit(f"cannot find the source of {key}; rerun make mutate")
            a = ast.get_source_segment(source, original) or ""
            b = ast.get_source_segment(source, mutated) or ""
            digest = hashlib.sha256(b.encode()).hexdigest()[:12]
            diff = "\n".join(
                line
                for line in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0)
                if not line.startswith(("---", "+++"))
            )
            if _normal(original) == _normal(mutated):
                kind = "message-only"
            elif key in EQUIVALENT and EQUIVALENT[key][0] == digest:
                kind = "equivalent"
            else:
                kind = "behaviour"
            status = STATUS.get(code, "suspicious")
            mutants.append(Mutant(key, module, status, kind, diff, digest))
    return mutants


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="list every surviving mutant")
    parser.add_argument("--min", type=float, default=None, help="fail below this percentage")
    args = parser.parse_args()
    if not MUTANTS.is_dir():
        print("no mutants/ directory: run `make mutate` first", file=sys.stderr)
        return 2
    mutants = collect()
    by_module: dict[str, list[Mutant]] = defaultdict(list)
    for m in mutants:
        by_module[m.module].append(m)

    def figures(ms: list[Mutant]) -> tuple[Counter[str], int, int, float]:
        c: Counter[str] = Counter()
        for m in ms:
            c[m.status] += 1
            c[f"{m.kind}:{m.status}"] += 1
            c[m.kind] += 1
        behaviour = c["behaviour"]
        caught = c["behaviour:killed"] + c["behaviour:timeout"]
        return c, behaviour, caught, 100.0 * caught / behaviour if behaviour else 100.0

    header = (f"{'module':42} {'total':>5} {'killed':>6} {'t/out':>5} {'surv':>5} "
              f"{'msg':>4} {'equiv':>5} {'no-t':>4} {'behav':>5} {'score':>6}")
    print(header)
    print("-" * len(header))
    for module in sorted(by_module):
        c, behaviour, _, score = figures(by_module[module])
        print(f"{module:42} {len(by_module[module]):5} {c['killed']:6} {c['timeout']:5} "
              f"{c['survived']:5} {c['message-only:survived']:4} {c['equivalent']:5} "
              f"{c['no tests']:4} {behaviour:5} {score:5.1f}%")
    c, behaviour, caught, score = figures(mutants)
    print("-" * len(header))
    print(f"{'total':42} {len(mutants):5} {c['killed']:6} {c['timeout']:5} {c['survived']:5} "
          f"{c['message-only:survived']:4} {c['equivalent']:5} {c['no tests']:4} "
          f"{behaviour:5} {score:5.1f}%")
    print()
    print(f"mutants: {len(mutants)}; killed {c['killed']}, timeouts {c['timeout']}, "
          f"survived {c['survived']}, no tests {c['no tests']}, not checked "
          f"{c['not checked']}, other {len(mutants) - sum(c[s] for s in set(STATUS.values()))}")
    print(f"message-only mutants: {c['message-only']} (of which survived "
          f"{c['message-only:survived'] + c['message-only:no tests']}); equivalent: "
          f"{c['equivalent']}")
    print(f"behaviour-changing: {behaviour}; killed (timeouts included) {caught}: {score:.1f}%")
    stale = [name for name in EQUIVALENT if name not in {m.name for m in mutants if
                                                         m.kind == "equivalent"}]
    if stale:
        print(f"stale EQUIVALENT entries (code changed; re-check them): {stale}")
    if args.list:
        for kind in ("behaviour", "equivalent", "message-only"):
            rows = [m for m in mutants if m.kind == kind
                    and m.status in ("survived", "no tests", "suspicious", "not checked")]
            print(f"\n== surviving {kind} mutants: {len(rows)}")
            for m in rows:
                note = f"  # {EQUIVALENT[m.name][1]}" if kind == "equivalent" else ""
                print(f"\n{m.name} [{m.status}] sha={m.digest}{note}\n{m.diff}")
    if args.min is not None and score < args.min:
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
