"""Versioned configuration of a business type: every edit (diagram, metadata, fees, checklist, form) is a
new ``ProcessVersion``; export writes a version back to processes/ and forms/, import loads those files.

Why through files: a version's content is the files a type is made of (business.yaml, materials.yaml,
process.bpmn, forms/*.json). An edit regenerates those files from the current version with the change
applied and loads them with the same loader and checks as ``flask defs load`` — so an edit made on screen
can never produce a type the loader would refuse, and exporting it reproduces the same content hash, which
keeps git the source of truth for a deployment that wants it.
"""
from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from app.catalog.definitions import BPMN_FILE, BUSINESS_FILE, MATERIALS_FILE, check_definitions, load_business_type
from app.catalog.models import ProcessVersion
from app.catalog.service import current_version, definition_dict, publish_definition, version_definition
from app.errors import DefinitionError, ValidationFailed
from app.identity.actor import Actor
from app.security import audit

BUSINESS_KEYS = ("code", "name", "category", "reg_class", "applicant_mode", "time_limit_days", "application_form",
                 "parties", "fees", "record", "confirm_roles", "co_applicants_edit", "stage_permissions", "reports",
                 "legal_basis", "guide", "faq", "inquiry", "contract")


class _Dumper(yaml.SafeDumper):
    """Multi-line text (guides) as readable ``|`` blocks, so exported files diff well in git."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_yaml(data: Any) -> bytes:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=120).encode("utf-8")


def dump_form(schema: dict[str, Any]) -> bytes:
    return (json.dumps(schema, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def business_of(version: ProcessVersion) -> dict[str, Any]:
    """business.yaml content of a version (absent optional keys left out, as an analyst writes it).

    The typed definition back to plain data: this is the boundary where a version becomes files again."""
    d = definition_dict(version_definition(version))
    data = {k: d[k] for k in BUSINESS_KEYS if d.get(k) is not None}
    data["fees"] = [{k: v for k, v in fee.items() if v is not None} for fee in d["fees"]]
    return data


def materials_of(version: ProcessVersion) -> list[dict[str, Any]]:
    return [{k: v for k, v in dataclasses.asdict(item).items() if v is not None}
            for item in version_definition(version).materials]


def forms_of(version: ProcessVersion) -> dict[str, dict[str, Any]]:
    return dict(version_definition(version).forms)


def type_files(version: ProcessVersion, *, business: dict[str, Any] | None = None,
               materials: list[dict[str, Any]] | None = None, forms: dict[str, dict[str, Any]] | None = None,
               bpmn: str | None = None) -> dict[str, bytes]:
    """The files (path relative to the definitions root → bytes) of a version, with changes applied."""
    code = version.business_type_code
    files = {f"processes/{code}/{BUSINESS_FILE}": dump_yaml(business if business is not None else business_of(version)),
             f"processes/{code}/{MATERIALS_FILE}": dump_yaml(materials if materials is not None
                                                            else materials_of(version)),
             f"processes/{code}/{BPMN_FILE}": (bpmn if bpmn is not None else version.bpmn_xml).encode("utf-8")}
    for name, schema in {**forms_of(version), **(forms or {})}.items():
        files[f"forms/{name}.json"] = dump_form(schema)
    return files


def publish_changes(session: Session, actor: Actor, root: Path, code: str, *, action: str,
                    business: dict[str, Any] | None = None, materials: list[dict[str, Any]] | None = None,
                    forms: dict[str, dict[str, Any]] | None = None,
                    bpmn: str | None = None) -> tuple[ProcessVersion, str]:
    """The current version with the given parts replaced, checked like files on disk, as a new version.

    Refused with every problem keyed by where it is (``fees[1].when``, a BPMN element id, a form field).
    """
    actor.require("defs:manage")
    base = current_version(session, code, unreleased=True)
    with _candidate(session, root, code, base, business=business, materials=materials, forms=forms,
                    bpmn=bpmn) as (type_dir, lane_roles):
        problems = check_definitions(type_dir.parents[1], only=type_dir, roles=lane_roles)
        if problems:
            raise ValidationFailed("修改未通过检查，未生成新版本", errors=problems_by_place(problems))
        definition = load_business_type(type_dir, type_dir.parents[1] / "forms", roles=lane_roles)
    version, message = publish_definition(session, definition, actor.user_id)
    audit.record(session, actor_id=actor.user_id, action=action, object_type="business_type", object_id=code,
                 before={"version_no": base.version_no}, after={"version_no": version.version_no})
    return version, message


def candidate_problems(session: Session, root: Path, code: str, *, bpmn: str) -> list[DefinitionError]:
    """Every problem the type would have with this diagram — the very check ``publish_changes`` refuses on
    (current version's other files, forms on disk, roles in the database), for the designer's validation."""
    base = current_version(session, code, unreleased=True)
    with _candidate(session, root, code, base, bpmn=bpmn) as (type_dir, lane_roles):
        return check_definitions(type_dir.parents[1], only=type_dir, roles=lane_roles)


def publish_files(session: Session, root: Path, code: str, files: dict[str, bytes],
                  actor_id: str | None) -> tuple[ProcessVersion, str]:
    """Check a type's files (path → bytes, as ``type_files`` gives them) like files on disk and publish them
    as the type's new version — the type is created when it is new. The caller authorises and audits."""
    with _scratch(session, root, code, files) as (type_dir, lane_roles):
        problems = check_definitions(type_dir.parents[1], only=type_dir, roles=lane_roles)
        if problems:
            raise ValidationFailed("修改未通过检查，未生成新版本", errors=problems_by_place(problems))
        definition = load_business_type(type_dir, type_dir.parents[1] / "forms", roles=lane_roles)
    return publish_definition(session, definition, actor_id)


@contextmanager
def _candidate(session: Session, root: Path, code: str, base: ProcessVersion,
               **parts: Any) -> Iterator[tuple[Path, set[str]]]:
    """The type as it would be published, written out in a scratch definitions root: its directory and the
    lane roles to accept."""
    with _scratch(session, root, code, type_files(base, **parts)) as found:
        yield found


@contextmanager
def _scratch(session: Session, root: Path, code: str, files: dict[str, bytes]) -> Iterator[tuple[Path, set[str]]]:
    with tempfile.TemporaryDirectory(prefix="defs-") as tmp:
        work = Path(tmp)
        if (root / "forms").is_dir():
            shutil.copytree(root / "forms", work / "forms")  # forms a new task may name, not yet in the version
        if (root / "dictionaries").is_dir():
            (work / "dictionaries").symlink_to((root / "dictionaries").resolve())
        for rel, data in files.items():
            (work / rel).parent.mkdir(parents=True, exist_ok=True)
            (work / rel).write_bytes(data)
        from app.identity.roles import role_names  # roles operators created may name lanes too

        yield work / "processes" / code, set(role_names(session))


def problems_by_place(problems: list[DefinitionError]) -> dict[str, list[str]]:
    """``{"fees[1].when": [...], "forms/x.json:field": [...], "_": [...]}`` for error messages next to fields."""
    out: dict[str, list[str]] = {}
    for p in problems:
        file = p.file or ""
        place = p.element or "_"
        if file.startswith("forms/"):
            place = f"{file}:{p.element or ''}"
        elif file.endswith(MATERIALS_FILE):
            place = f"materials{p.element}" if p.element and p.element.startswith("[") else f"materials.{place}"
        out.setdefault(place, []).append(p.reason)
    return out


def export_type(session: Session, actor: Actor, root: Path, code: str) -> list[str]:
    """Write the current version's files into the definitions root; return the paths written."""
    actor.require("defs:manage")
    version = current_version(session, code, unreleased=True)
    written = []
    for rel, data in type_files(version).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
            written.append(rel)
    audit.record(session, actor_id=actor.user_id, action="definition.export", object_type="business_type",
                 object_id=code, after={"version_no": version.version_no, "written": written})
    return written
