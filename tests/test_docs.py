"""The docs stay true to the program: the module map names every module of the INSTALLED
package (and none that is gone), the README stays short and its links lead somewhere, and
the release's version has its CHANGELOG section. The site itself is built in
``test_docs_e2e.py``."""

from __future__ import annotations

import re
from pathlib import Path

import sfcred

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MAP_HEADING = "## Module map"


def installed_modules() -> set[str]:
    """``sfcred/...py`` of every module the installed package has; a subpackage's
    ``__init__.py`` holds a docstring only and is named by its package heading instead."""
    package = Path(sfcred.__file__).resolve().parent
    assert not package.is_relative_to(ROOT / "sfcred"), "the tests import the checkout"
    found = set()
    for path in package.rglob("*.py"):
        rel = path.relative_to(package)
        if "__pycache__" in rel.parts or (rel.name == "__init__.py" and len(rel.parts) > 1):
            continue
        found.add("sfcred/" + rel.as_posix())
    return found


def module_map(text: str) -> set[str]:
    """The modules the development page's map names: each row's first cell."""
    start = text.index(MAP_HEADING)
    end = text.find("\n## ", start + len(MAP_HEADING))
    section = text[start:end if end != -1 else len(text)]
    return set(re.findall(r"^\| `(sfcred/[\w/]+\.py)` \|", section, re.M))


def test_the_module_map_names_every_installed_module_and_no_other() -> None:
    named = module_map((DOCS / "development.md").read_text(encoding="utf-8"))
    installed = installed_modules()
    assert len(installed) > 50  # the package was found, not an empty folder
    missing, gone = sorted(installed - named), sorted(named - installed)
    assert not missing, f"add these to the module map in docs/development.md: {missing}"
    assert not gone, f"the module map in docs/development.md names modules that are gone: {gone}"


def test_module_map_reads_rows_only_from_its_own_section() -> None:
    text = ("## Before\n| `sfcred/a.py` | x |\n" + MAP_HEADING + "\n\n| module | what |\n"
            "|---|---|\n| `sfcred/b.py` | y |\n| `sfcred/c/d.py` | z |\n"
            "## After\n| `sfcred/e.py` | w |\n")
    assert module_map(text) == {"sfcred/b.py", "sfcred/c/d.py"}


def test_the_readme_is_for_users_and_short() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    # Nothing a new user cannot do yet: sfcred is not published on PyPI.
    for page in [ROOT / "README.md", *DOCS.rglob("*.md")]:
        body = page.read_text(encoding="utf-8")
        assert not re.search(r"pip install (-U )?['\"]?sfcred\b(?![-.\w/])", body), page


def test_the_readmes_links_lead_to_files() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [t for t in targets if "://" not in t]
    assert len(local) >= 10  # the README points to the docs
    dead = [t for t in local if not (ROOT / t).is_file()]
    assert not dead, dead


def test_the_version_has_its_changelog_section() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## {re.escape(sfcred.__version__)} ", text, re.M), sfcred.__version__
