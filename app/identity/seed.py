"""Reference data every installation needs: roles and their permission grants (dictionaries/roles.yaml).
Roles an operator has edited on /admin/roles are left as they are."""
from __future__ import annotations

import yaml
from sqlalchemy.orm import Session

from app.config import ROOT
from app.identity.models import Role


def load_roles(session: Session) -> int:
    data = yaml.safe_load((ROOT / "dictionaries" / "roles.yaml").read_text(encoding="utf-8"))
    for item in data["roles"]:
        role = session.get(Role, item["code"]) or Role(code=item["code"], customised=False)
        if role.customised:  # an operator's edit on /admin/roles wins over the shipped default
            continue
        role.name, role.scope, role.permissions = item["name"], item["scope"], list(item["permissions"])
        role.category = item.get("category", "business")
        session.add(role)
    return len(data["roles"])
