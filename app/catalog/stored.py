"""A stored process version's definition (JSON in ``ProcessVersion.definition``) ↔ the typed ``BusinessTypeDef``.

Why: run-time code reads a definition by attribute (``d.materials``, ``m.code``), so mypy checks every use and a
misspelt key fails at check time instead of silently reading ``None``. The JSON form stays what it was, so
versions stored by older code still load: a key that older code did not write takes the dataclass default
(every field added after the first version has one), a key this code no longer knows is ignored.

The run-time object is the same ``BusinessTypeDef`` the loader builds from disk (one type for every function
that takes a definition, whether it came from disk — dry runs, trials — or from a stored version), with
``bpmn`` empty: the diagram is stored apart (``ProcessVersion.bpmn_xml`` and the parsed spec), not in the
definition, and nothing that reads a stored definition needs its bytes.

One key is read as what it came to mean rather than by its default: ``generated`` (issue 17). Versions stored
before it existed list the 不动产登记申请书 (code ``application_form`` in every checklist) as an upload, and the
cases still running on them would be asked for a photo of a form that the platform now makes from the answers
and the signatures — the applicant reads "系统生成" in the guide and then could not submit without a scan. Such an
item, with no ``generated`` key at all (code that knew the key always writes it, ``None`` included, so an
analyst's explicit choice stays), is read as generated: those cases get the 申请书 made once every party has
signed, like the cases on newer versions.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from app.catalog.definitions import BusinessTypeDef, FeeItem, MaterialItem, PartyRole, UserTaskDef

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["definition_dict", "definition_from_dict"]

_T = TypeVar("_T", bound="DataclassInstance")


def definition_dict(d: BusinessTypeDef) -> dict[str, Any]:
    """The JSON stored for a version: every field but ``bpmn`` (stored apart as the version's diagram)."""
    data = dataclasses.asdict(d)
    data.pop("bpmn", None)
    return data


def definition_from_dict(data: Mapping[str, Any]) -> BusinessTypeDef:
    """The typed definition of a stored version (``bpmn`` is ``b""``: see the module docstring)."""
    nested = {
        "parties": [_of(PartyRole, p) for p in data.get("parties") or []],
        "fees": [_of(FeeItem, f) for f in data.get("fees") or []],
        "materials": [_of(MaterialItem, _material(m)) for m in data.get("materials") or []],
        "user_tasks": [_of(UserTaskDef, t) for t in data.get("user_tasks") or []],
        "bpmn": b"",
    }
    return _of(BusinessTypeDef, {**data, **nested})


# The items that later checklists make themselves, by the code they always had: code → ``generated`` kind.
_MADE_BY_THE_PLATFORM_SINCE = {"application_form": "application_form"}


def _material(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """A checklist item as today's code reads it (see the module docstring on ``generated``)."""
    made = _MADE_BY_THE_PLATFORM_SINCE.get(str(data.get("code")))
    return {**data, "generated": made} if made and "generated" not in data else data


def _of(cls: type[_T], data: Mapping[str, Any]) -> _T:
    """``cls`` from the keys it knows; a missing key with a default takes it (a missing required one raises)."""
    known = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in known})
