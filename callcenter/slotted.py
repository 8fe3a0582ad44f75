"""Generated constructors and copies for the slotted dataclasses on the AMI hot path (issue 8).

An AMI event is built once per event (``callcenter/ami/events.py``) and a call record copied once per
change (``callcenter/live/model.py``). ``cls(...)`` spends most of its time in the type call and in
matching keyword arguments, and ``dataclasses.replace`` inspects the fields on every call; a function
generated once from the class's fields, storing each slot in turn (``o.f = ...``, CPython's specialised
slot store), gives the same object several times faster. It follows field changes by itself; the checks
keep it honest: a slotted, run-time mutable dataclass, no ``__post_init__``, every field an ``__init__``
argument (and, for the constructor, none with a default factory).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["constructor", "copier"]

_T = TypeVar("_T")


def constructor(cls: type[_T]) -> Callable[..., _T]:
    """``cls(**fields)``, keyword-only, with the same defaults."""
    fields = _fields(cls)
    namespace: dict[str, Any] = {}
    params: list[str] = []
    for i, f in enumerate(fields):
        assert f.default_factory is dataclasses.MISSING, f"{cls.__name__}.{f.name}: no default factory"
        if f.default is dataclasses.MISSING:
            params.append(f.name)
        else:
            namespace[f"_d{i}"] = f.default
            params.append(f"{f.name}=_d{i}")
    body = "".join(f"    o.{f.name} = {f.name}\n" for f in fields)
    made: Callable[..., _T] = _generate(cls, f"*, {', '.join(params)}", body, namespace)
    return made


def copier(cls: type[_T]) -> Callable[[_T], _T]:
    """A shallow copy: a new instance with every field of the given one."""
    body = "".join(f"    o.{f.name} = r.{f.name}\n" for f in _fields(cls))
    made: Callable[[_T], _T] = _generate(cls, "r", body, {})
    return made


def _fields(cls: type[Any]) -> tuple[dataclasses.Field[Any], ...]:
    name = cls.__name__
    params = getattr(cls, "__dataclass_params__", None)
    assert params is not None and not params.frozen, f"{name}: a dataclass, mutable at run time"
    assert "__dict__" not in cls.__dict__ and hasattr(cls, "__slots__"), f"{name}: slots=True"
    assert not hasattr(cls, "__post_init__"), f"{name}: no __post_init__"
    fields = dataclasses.fields(cls)
    assert all(f.init for f in fields), f"{name}: every field must be an __init__ argument"
    return fields


def _generate(cls: type[Any], params: str, body: str, namespace: dict[str, Any]) -> Any:
    namespace.update(_cls=cls, _new=object.__new__)
    exec(f"def made({params}):\n    o = _new(_cls)\n{body}    return o\n", namespace)  # field names only
    return namespace["made"]
