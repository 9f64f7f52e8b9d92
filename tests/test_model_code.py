"""The model's dataclass code compiled ahead of time: current, used, and the same as dataclasses'."""

from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from dockaudit import _model_code, model

ROOT = Path(__file__).resolve().parent.parent
SAME_PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}" == _model_code.PYTHON
needs_same_python = pytest.mark.skipif(
    not SAME_PYTHON, reason=f"_model_code.py was generated on Python {_model_code.PYTHON}")

METHODS = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__")


def _model_classes() -> list[type]:
    return [cls for cls in vars(model).values()
            if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == model.__name__]


@needs_same_python
def test_generated_module_is_current() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_model_code.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr + "\nrun: python tools/gen_model_code.py"


@needs_same_python
def test_every_generated_method_of_the_model_is_the_precompiled_one() -> None:
    classes = _model_classes()
    assert len(classes) >= 26
    used = 0
    for cls in classes:
        for name in METHODS:
            fn = vars(cls).get(name)
            if fn is None:
                continue
            fn = inspect.unwrap(fn)  # __repr__ is wrapped against recursion
            assert fn.__code__.co_filename == _model_code.__file__, f"{cls.__name__}.{name} was compiled at import"
            used += 1
    assert used == len(_model_code.CODES)


def test_each_code_is_compiled_from_its_source() -> None:
    assert len(_model_code.SOURCES) == len(_model_code.CODES)
    for source, code in _model_code.CODES.items():
        assert code.co_name == "__create_fn__"
        assert inspect.getsource(code) == source + "\n"


def test_dataclasses_gets_its_exec_back() -> None:
    assert "exec" not in vars(dataclasses)


def test_precompiled_exec_is_exec() -> None:
    namespace: dict = {}
    model._precompiled_exec("x = 1 + 1", {"__builtins__": __builtins__}, namespace)
    assert namespace == {"x": 2}

    source, code = next(iter(_model_code.CODES.items()))
    ours: dict = {}
    theirs: dict = {}
    scope = {"__builtins__": __builtins__, "__name__": "somewhere"}
    model._precompiled_exec(source, scope, ours)
    exec(source, scope, theirs)
    assert ours.keys() == theirs.keys() == {"__create_fn__"}
    fn, ref = ours["__create_fn__"], theirs["__create_fn__"]
    assert fn.__code__ is code
    assert (fn.__name__, fn.__qualname__, fn.__module__, fn.__defaults__, fn.__kwdefaults__, fn.__doc__) == (
        ref.__name__, ref.__qualname__, ref.__module__, ref.__defaults__, ref.__kwdefaults__, ref.__doc__)
    assert fn.__globals__ is ref.__globals__ is scope


def test_classes_made_through_the_table_behave_as_dataclasses_makes_them(monkeypatch) -> None:
    def make() -> type:
        @dataclasses.dataclass(frozen=True, slots=True)
        class Location:  # the model's shape: its sources are in the table
            path: str
            line: int
            column: int
            end_line: int
            end_column: int

        @dataclasses.dataclass(frozen=True, slots=True)
        class Other:  # not in the table: compiled as usual
            path: str
            weight: float = 1.5
            tags: tuple = dataclasses.field(default_factory=tuple)

        return Location, Other

    monkeypatch.setattr(dataclasses, "exec", model._precompiled_exec, raising=False)
    fast = make()
    monkeypatch.delattr(dataclasses, "exec")
    plain = make()
    for fast_cls, plain_cls, args in zip(fast, plain, [("a", 1, 2, 1, 3), ("b",)], strict=True):
        a, b = fast_cls(*args), plain_cls(*args)
        assert repr(a) == repr(b)
        assert hash(a) == hash(b)
        assert a == fast_cls(*args) and a != fast_cls(*(["z", *args[1:]]))
        with pytest.raises(dataclasses.FrozenInstanceError):
            a.path = "x"
        with pytest.raises(dataclasses.FrozenInstanceError):
            del a.path
        with pytest.raises(TypeError):
            fast_cls()
        assert dataclasses.asdict(a) == dataclasses.asdict(b)
        assert dataclasses.replace(a, path="q").path == "q"
    if SAME_PYTHON:
        assert fast[0].__init__.__code__.co_filename == _model_code.__file__
    assert fast[1].__init__.__code__.co_filename == "<string>"
