"""The shape of the code, checked: module sizes, one-way imports, and which module may do what.

Read with ``ast`` from the installed package, so what is checked is what users run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import sfcred

PACKAGE = Path(sfcred.__file__).parent
MAX_LINES = 300


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _type_checking_block(node: ast.AST) -> bool:
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Name)
            and node.test.id == "TYPE_CHECKING")


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The sfcred modules ``name`` imports at run time, function-level imports included
    (``if TYPE_CHECKING:`` blocks are not run). ``import a.b.c`` runs ``a.b`` too."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    skip = {id(n) for block in ast.walk(tree) if _type_checking_block(block)
            for n in ast.walk(block)}
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        for target in targets:
            parts = target.split(".")
            for i in range(1, len(parts) + 1):
                candidate = ".".join(parts[:i])
                if candidate in known and candidate != name:
                    found.add(candidate)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                found.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_no_module_is_over_300_lines() -> None:
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines())
             for name, path in modules().items()}
    assert {n: s for n, s in sizes.items() if s > MAX_LINES} == {}


def test_no_import_cycle_not_even_inside_functions() -> None:
    mods = modules()
    known = set(mods)
    # A package's __init__ runs before any of its modules: each module depends on its parent.
    graph = {name: imports(name, path, known) for name, path in mods.items()}
    assert cycles(graph) == []


def test_the_cycle_finder_finds_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


UPPER = ("sfcred.helper", "sfcred.tokens", "sfcred.fleet", "sfcred.rotation", "sfcred.commands",
         "sfcred.usage")
LOWER = ("sfcred.store", "sfcred.salesforce")
# The value types and the leaves everything may import.
LEAVES = {"sfcred.profiles.record", "sfcred.keys", "sfcred.secret", "sfcred.errors",
          "sfcred.untrusted", "sfcred.fsread", "sfcred.fsutil", "sfcred.deadline",
          "sfcred.minijson", "sfcred.tokens.entry"}


def _inside(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def test_lower_layers_import_nothing_from_upper_ones() -> None:
    """The store, the Salesforce client and the value types sit under the helper, the token
    layer, the fleet, rotation and the commands: they never import from those."""
    mods = modules()
    known = set(mods)
    wrong = {name: sorted(m for m in imports(name, path, known)
                          if _inside(m, UPPER) and m not in LEAVES)
             for name, path in mods.items() if _inside(name, LOWER) or name in LEAVES}
    assert {n: m for n, m in wrong.items() if m} == {}


def test_the_value_types_are_leaves() -> None:
    """A leaf imports no sfcred module but other leaves (and the packages they sit in, which
    are empty), so any layer may import it."""
    mods = modules()
    known = set(mods)
    parents = {leaf.rsplit(".", 1)[0] for leaf in LEAVES}
    wrong = {leaf: sorted(m for m in imports(leaf, mods[leaf], known)
                          if m not in LEAVES and m not in parents and m != "sfcred")
             for leaf in LEAVES}
    assert {n: m for n, m in wrong.items() if m} == {}


def test_the_package_rule_would_see_a_wrong_import(tmp_path: Path) -> None:
    fake = tmp_path / "fake.py"
    fake.write_text("def f():\n    from sfcred.tokens.cache import Entry\n")
    found = imports("sfcred.store.fake", fake, set(modules()))
    assert sorted(m for m in found if _inside(m, UPPER)) == ["sfcred.tokens", "sfcred.tokens.cache"]
    assert not _inside("sfcred.tokensx", UPPER)


def test_about_fifteen_modules_stay_at_the_top_level() -> None:
    top = [p.stem for p in PACKAGE.glob("*.py")]
    assert len(top) <= 16, sorted(top)


def _uses(path: Path, *, calls_only: bool) -> set[str]:
    """Dotted names a module reads (``sys.stdout``) or, with ``calls_only``, calls
    (``httpx.Client(...)``; an annotation naming the class does not count)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        target = node.func if isinstance(node, ast.Call) else None if calls_only else node
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            names.add(f"{target.value.id}.{target.attr}")
        elif isinstance(target, ast.Name):
            names.add(target.id)
    return names


def _users(*names: str, calls_only: bool = False) -> set[str]:
    """The modules (the stand-in aside: it is a server) that use any of ``names``."""
    return {m for m, path in modules().items()
            if not m.startswith("sfcred.testing")
            and _uses(path, calls_only=calls_only) & set(names)}


def test_only_the_cli_touches_argv_stdio_and_exit() -> None:
    assert _users("sys.argv", "sys.stdout", "sys.stderr", "sys.stdin", "sys.exit", "print",
                  "os.execvpe", "os._exit", "input") == {"sfcred.cli"}


def test_one_module_builds_http_clients() -> None:
    assert _users("httpx.Client", "httpx.AsyncClient", calls_only=True) == {
        "sfcred.salesforce.http"
    }


STORES = {"KeyStore", "EnvStore", "VaultBackend", "VaultKV", "Store"}


def test_no_caller_asks_which_store_it_has() -> None:
    """Callers use the ``Store`` protocol (``store.base``): no ``isinstance`` against a store
    class, and no ``getattr`` probing of a store or its backend (``getattr(store.backend,
    "kv")`` was how fleet mode used to be recognised)."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id == "isinstance" and len(node.args) == 2:
                names = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
                names |= {n.attr for n in ast.walk(node.args[1]) if isinstance(n, ast.Attribute)}
                if names & STORES:
                    found.append(f"{path.name}:{node.lineno} isinstance")
            if node.func.id == "getattr" and node.args:
                target = ast.unparse(node.args[0])
                if "store" in target.lower() or target.endswith(".backend"):
                    found.append(f"{path.name}:{node.lineno} getattr({target}, ...)")
    assert found == []


def test_tests_make_an_rsa_key_one_way() -> None:
    """``_support.make_keypair`` is how a test makes a key (``conftest.KeyPool`` stands in only
    for the keys the program generates in the test process)."""
    here = Path(__file__).parent
    makers = ("rsa.generate_private_key", "keys.generate_key(")
    found = sorted(p.name for p in here.glob("*.py")
                   if p.name not in {"_support.py", "conftest.py", "test_architecture.py"}
                   and any(m in p.read_text(encoding="utf-8") for m in makers))
    assert found == []


def _keyring_names(tree: ast.AST) -> set[str]:
    """The names a module binds to keyring or a part of it (``import keyring.core``,
    ``from keyring import core``, ``from keyring.backend import get_all_keyring``)."""
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            bound |= {a.asname or a.name.split(".")[0] for a in node.names
                      if a.name.split(".")[0] == "keyring"}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "keyring":
            bound |= {a.asname or a.name for a in node.names}
    return bound


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def keyring_private_reads(source: str) -> list[int]:
    """Lines that read or set a private name of keyring's: ``keyring.core._keyring_backend``,
    or ``getattr``/``setattr`` (``monkeypatch.setattr`` too) of one by its string."""
    tree = ast.parse(source)
    bound = _keyring_names(tree)

    def rooted(node: ast.AST) -> bool:
        while isinstance(node, ast.Attribute):
            node = node.value
        return isinstance(node, ast.Name) and node.id in bound

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and rooted(node):
            chain: list[str] = []
            part: ast.expr = node
            while isinstance(part, ast.Attribute):
                chain.append(part.attr)
                part = part.value
            if any(_private(a) for a in chain):
                found.append(node.lineno)
        elif isinstance(node, ast.Call) and len(node.args) >= 2 and rooted(node.args[0]) \
                and isinstance(node.args[1], ast.Constant) \
                and isinstance(node.args[1].value, str) and _private(node.args[1].value):
            found.append(node.lineno)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and node.value.startswith("keyring.") \
                and any(_private(p) for p in node.value.split(".")):
            found.append(node.lineno)  # monkeypatch.setattr("keyring.core._x", ...)
    return sorted(set(found))


def test_nothing_touches_a_private_name_of_keyring() -> None:
    """keyring is used through its public names only, in the program and in its tests
    (``store.keyfind`` tells who chose a backend without ``keyring.core._keyring_backend``)."""
    here = Path(__file__).parent
    files = [*PACKAGE.rglob("*.py"), *(p for p in here.rglob("*.py")
                                       if p.name != "test_architecture.py")]
    found = {str(p): lines for p in files
             if (lines := keyring_private_reads(p.read_text(encoding="utf-8")))}
    assert found == {}


def test_the_keyring_rule_would_see_a_private_read() -> None:
    assert keyring_private_reads(
        "import keyring.core\nx = keyring.core._keyring_backend\n") == [2]
    assert keyring_private_reads(
        "from keyring import core as kc\ngetattr(kc, '_keyring_backend', None)\n") == [2]
    assert keyring_private_reads(
        "import keyring.core\nmp.setattr(keyring.core, '_keyring_backend', None)\n") == [2]
    assert keyring_private_reads("mp.setattr('keyring.core._keyring_backend', None)\n") == [1]
    assert keyring_private_reads("import keyring\nkeyring.get_keyring()\n") == []
    assert keyring_private_reads("import other\nother._x\n") == []
