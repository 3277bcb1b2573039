"""Designer pages: the list of business types and the modeler page for one of them."""
from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for

from app.admin import bp
from app.admin.common import analyst, definitions_root
from app.catalog import designer
from app.catalog.condition_fields import application_fields, dictionary_choices, flow_condition_vocabulary
from app.catalog.sample_data import sample_data
from app.catalog.service import list_business_types, version_definition
from app.identity.roles import role_names
from app.pages import login_required
from app.web import db_session


@bp.get("/")
@login_required
def index() -> str:
    analyst()
    session = db_session()
    types = [(bt, pv, designer.versions(session, bt.code)) for bt, pv in list_business_types(session, unreleased=True)]
    return render_template("admin/index.html", types=types)


@bp.get("/designer/<code>")
@login_required
def designer_page(code: str) -> str:
    actor = analyst()
    session = db_session()
    bt = designer.business_type(session, code)
    versions = designer.versions(session, code)
    draft = designer.get_draft(session, code)
    version_id = request.args.get("version")
    if version_id:
        opened = designer.version_of(session, code, version_id)
        xml, source = opened.bpmn_xml, f"v{opened.version_no}"
    elif draft is not None:
        xml, source = draft.bpmn_xml, "草稿"
    else:
        opened = designer.version_of(session, code, bt.current_version_id or "")
        xml, source = opened.bpmn_xml, f"v{opened.version_no}"
    config: dict[str, Any] = {
        "code": code, "xml": xml, "source": source, "canManage": actor.has("defs:manage"),
        "vocabulary": designer.palette_vocabulary(definitions_root(), role_names(session)), "versions": versions,
        "urls": {name: url_for(f"admin.{name}", code=code) for name in
                 ("save_draft", "validate_diagram", "publish_diagram", "dry_run", "compare_versions",
                  "compare_draft", "version_list")},
        "versionXmlUrl": url_for("admin.version_xml", code=code, version_id="__id__"),
    }
    config.update(_condition_and_trial_inputs(session, code, bt.current_version_id))
    return render_template("admin/designer.html", bt=bt, versions=versions, draft=draft, source=source,
                           config=config)


def _condition_and_trial_inputs(session: Any, code: str, version_id: str | None) -> dict[str, Any]:
    """The condition builder's fields and the dry run's generated form, from the current application form."""
    schema = (version_definition(designer.version_of(session, code, version_id)).application_schema if version_id
              else {"properties": {}})
    options = dictionary_choices(session)
    return {"conditions": flow_condition_vocabulary(definitions_root(), schema, options),
            "trial": {"fields": application_fields(schema, always_present=False, dictionary_options=options),
                      "sample": sample_data(schema, public_only=True)}}
