"""Import bashlex without rebuilding its parser tables every time.

bashlex builds its LALR tables when ``bashlex.parser`` is imported, which
costs about 0.2 s per process. The tables depend only on the bashlex grammar,
so they are built once and kept (as ``marshal`` data, which cannot run code
when loaded) in the user's cache directory, keyed by the grammar itself and
the Python version. bashlex is not modified: its ``yacc.LRTable`` is replaced
only while ``bashlex.parser`` is being imported.

`load_bashlex()` imports lazily, so a run that never needs bashlex never pays
for it.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import marshal
import os
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

_FORMAT = 1
_loaded: ModuleType | None = None


def cache_dir() -> Path:
    """Where the tables are kept: ``$DOCKAUDIT_CACHE_DIR``, else the XDG cache directory."""
    explicit = os.environ.get("DOCKAUDIT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dockaudit"


def _grammar_key(grammar: Any) -> str:
    digest = hashlib.sha256()
    digest.update(f"{_FORMAT}|{sys.version_info[:2]}|".encode())
    for production in grammar.Productions:
        digest.update(str(production).encode())
        digest.update(b"\n")
    return digest.hexdigest()[:24]


def _read_tables(path: Path) -> tuple[dict, dict] | None:
    try:
        data = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if not (isinstance(data, tuple) and len(data) == 2):
        return None
    action, goto = data
    if not (isinstance(action, dict) and isinstance(goto, dict)):
        return None
    return action, goto


def _write_tables(path: Path, action: dict, goto: dict) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".bashlex-", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(marshal.dumps((action, goto)))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home only costs the rebuild next time


def _cached_table_class(yacc: ModuleType) -> type:
    base = yacc.LRTable

    class CachedLRTable(base):  # type: ignore[misc, valid-type]
        def __init__(self, grammar: Any, log: Any = None) -> None:
            path = cache_dir() / f"bashlex-tables-{_grammar_key(grammar)}.marshal"
            tables = _read_tables(path)
            if tables is None:
                base.__init__(self, grammar, log)
                _write_tables(path, self.lr_action, self.lr_goto)
                return
            self.grammar = grammar
            self.log = log if log is not None else yacc.NullLogger()
            self.lr_action, self.lr_goto = tables
            self.lr_productions = grammar.Productions
            self.lr_goto_cache = {}
            self.lr0_cidhash = {}
            self._add_count = 0
            self.sr_conflict = 0
            self.rr_conflict = 0
            self.conflicts = []
            self.sr_conflicts = []
            self.rr_conflicts = []

    return CachedLRTable


def load_bashlex() -> ModuleType:
    """Return the ``bashlex`` module, importing it (with cached tables) on first use."""
    global _loaded
    if _loaded is not None:
        return _loaded
    if "bashlex.parser" in sys.modules:
        _loaded = importlib.import_module("bashlex")
        return _loaded
    spec = importlib.util.find_spec("bashlex")
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        _loaded = importlib.import_module("bashlex")
        return _loaded
    # Create the package without running its __init__ (which builds the parser),
    # so that bashlex.yacc can be prepared first.
    package = importlib.util.module_from_spec(spec)
    sys.modules["bashlex"] = package
    try:
        yacc = importlib.import_module("bashlex.yacc")
        original = yacc.LRTable
        yacc.LRTable = _cached_table_class(yacc)
        try:
            spec.loader.exec_module(package)
        finally:
            yacc.LRTable = original
    except BaseException:
        for name in [n for n in sys.modules if n == "bashlex" or n.startswith("bashlex.")]:
            del sys.modules[name]
        raise
    _loaded = package
    return package
