"""The permission matrix: every route of the app (REST API and pages, read from ``url_map``) is called as
each persona — anonymous, applicant, clerk, reviewer, recorder, certifier, analyst, operator, court,
institution — and must be let through or refused exactly as the table below declares. A new route
without a line in the table fails the test, so nobody adds an endpoint without deciding who may use it.

"Refused" means 401/403 (a page sends an anonymous visitor to /login). Routes marked ``hides`` answer
404 to a persona that may not see the object (non-disclosure, e.g. another person's application), so
there 404 also counts as refused; they are called with real objects where reading them is harmless
and with unknown ids where the call would change something. "Allowed" is any other answer below 500
(200, 201, a redirect elsewhere, 404 for an unknown id, 409/422 for an unsuitable object or input).
"""
from __future__ import annotations

import io
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from page_fixtures import PageUser
from support.forms import PDF, transfer_form

from app.config import ROOT

PERSONAS = {"anonymous": None, "applicant": "zhangsan", "clerk": "xh_acceptor", "reviewer": "xh_reviewer",
            "recorder": "xh_recorder", "certifier": "xh_certifier", "analyst": "analyst", "ops": "ops",
            "court": "court", "institution": "bank"}
EVERYONE = frozenset(PERSONAS)
SIGNED_IN = EVERYONE - {"anonymous"}
OFFICE = frozenset({"clerk", "reviewer", "recorder", "certifier", "ops"})  # case:read / task:read
STAFF = OFFICE | {"analyst"}
CLERKS = frozenset({"clerk", "reviewer", "recorder", "certifier"})  # stage roles of 西湖区
APPLY = frozenset({"applicant", "institution"})  # application:create
PORTAL = frozenset({"applicant", "institution", "court"})  # portal accounts (实名认证 pages); staff have none
OWN = APPLY | {"court"}  # application:read_own
PARTY = frozenset({"applicant"})  # 张三 is the seller in the case used below
PERSON = frozenset({"applicant"})  # a natural person (无房证明 is not for organisations)
ANALYST = frozenset({"analyst", "ops"})  # defs:read (ops reads definitions, the analyst also edits them)
DEFS_EDIT = frozenset({"analyst"})  # defs:manage / dict:manage
OPERATOR = frozenset({"ops"})
INSTITUTION = frozenset({"institution"})
NOBODY: frozenset[str] = frozenset()

FAKE = "f" * 32
FORM = "transfer_resale_application"


@dataclass(frozen=True)
class Rule:
    allowed: frozenset[str]
    hides: bool = False  # a persona that may not see the object gets 404
    fake: bool = False  # the object does not exist (yet): allowed personas may get 404 too
    json: dict[str, Any] | None = None
    form: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    args: dict[str, str] = field(default_factory=dict)  # URL arguments other than the defaults


TASK = {"decision": "approve", "opinion": "同意"}
EXPECT: dict[str, Rule] = {
    # --- public -------------------------------------------------------------------------------------
    "GET home.index": Rule(EVERYONE), "GET home.healthz": Rule(EVERYONE), "GET home.readyz": Rule(EVERYONE),
    "GET accounts.login": Rule(EVERYONE), "POST accounts.login": Rule(EVERYONE),
    "GET accounts.login_totp": Rule(EVERYONE), "POST accounts.login_totp": Rule(EVERYONE),
    "POST accounts.logout": Rule(EVERYONE),
    "GET portal.guide": Rule(EVERYONE), "GET portal.info": Rule(EVERYONE), "GET portal.terms": Rule(EVERYONE),
    "GET portal.track": Rule(EVERYONE), "POST portal.track": Rule(EVERYONE),
    "GET verify_page.verify": Rule(EVERYONE), "GET certificates.verify": Rule(EVERYONE, query={"code": "x"}),
    "POST auth.token": Rule(EVERYONE, json={"username": "nobody", "password": "x"}),
    "GET business_types.list_types": Rule(EVERYONE), "GET business_types.get_type": Rule(EVERYONE),
    "POST integrations.tax_callback": Rule(EVERYONE - EVERYONE, json={"business_no": "x"}),  # HMAC only
    "POST integrations.payment_callback": Rule(EVERYONE - EVERYONE, json={"order_no": "x"}),  # HMAC only
    # another platform's signed request / identity assertion is the only credential (docs/federation.md)
    "GET federation.ping": Rule(NOBODY), "POST federation.ping": Rule(NOBODY, json={"echo": "x"}),
    "GET federation.arrive": Rule(NOBODY, query={"assertion": "x"}),
    "POST federation.arrive": Rule(NOBODY, form={"assertion": "x"}),
    "GET federation.definitions": Rule(NOBODY),
    "GET federation.definition_package": Rule(NOBODY, args={"version": "1"}),
    "POST federation_forward.accept_application": Rule(NOBODY, json={}),
    "POST federation_forward.receive_report": Rule(NOBODY, json={}),
    # the national platform's pages: none exist below the national level (this app is a city)
    "GET national_entrance.index": Rule(NOBODY, hides=True), "POST national_entrance.go": Rule(NOBODY, hides=True),
    "GET national.choose": Rule(NOBODY, hides=True), "GET national.apply": Rule(NOBODY, hides=True),
    "POST national.apply": Rule(NOBODY, hides=True), "GET national.mine": Rule(NOBODY, hides=True),
    # 业务定义包: analysts read (a city lists its province's packages); publishing is a province's, adopting and
    # overriding a city's — the analyst who may manage definitions
    "GET federation_admin.definitions": Rule(ANALYST), "POST federation_admin.publish": Rule(DEFS_EDIT),
    "POST federation_admin.adopt": Rule(DEFS_EDIT), "POST federation_admin.override": Rule(DEFS_EDIT),
    "POST federation.no_property_query": Rule(NOBODY, json={"name": "张三", "id_number": "x", "purpose": "x"}),
    # 各市归集 (the province's operators: interface:read): absent below the province level (this app is a city)
    "GET federation_admin.collected_cases": Rule(NOBODY, hides=True),
    "GET federation_collected.list_collected": Rule(NOBODY, hides=True),
    "GET federation_collected.collected_health": Rule(NOBODY, hides=True),
    "GET portal.signup": Rule(EVERYONE), "POST portal.signup": Rule(EVERYONE),
    "GET portal.sms_login": Rule(EVERYONE), "POST portal.sms_login": Rule(EVERYONE),
    "GET portal.guide_process": Rule(EVERYONE),  # the BPMN behind the public guide's diagram
    "GET portal.blank_contract": Rule(EVERYONE),  # the 示范文本 of a type, linked from its public guide
    "GET portal.invitation": Rule(EVERYONE, args={"token": "x"}),  # the SMS link; the token is the check
    "GET portal.rating_link": Rule(EVERYONE, args={"token": "x"}),  # 好差评 by SMS; the token is the check
    "POST portal.rating_link": Rule(EVERYONE, args={"token": "x"}),
    "GET api_docs": Rule(EVERYONE), "GET api-docs.openapi_json": Rule(EVERYONE), "GET static": Rule(EVERYONE),
    # --- account security (staff) -------------------------------------------------------------------------
    "GET accounts.security": Rule(STAFF), "POST accounts.totp_start": Rule(STAFF),
    "POST accounts.totp_confirm": Rule(STAFF, form={"code": "000000"}),
    # --- portal (applicants, institutions) ------------------------------------------------------------
    # staff who may read the case see its applicant view too (app.casefile.access.get_case)
    "GET portal.my_applications": Rule(OWN), "GET portal.my_application": Rule(PARTY | OFFICE, hides=True),
    "GET portal.edit_application": Rule(PARTY | OFFICE, hides=True),
    "POST portal.save_form": Rule(PARTY, hides=True, args={"case_id": FAKE}),
    "POST portal.upload": Rule(PARTY, hides=True, args={"case_id": FAKE}),
    "POST portal.delete_material": Rule(PARTY, hides=True, args={"case_id": FAKE}),
    "POST portal.confirm": Rule(PARTY, hides=True, args={"case_id": FAKE}),
    "POST portal.submit": Rule(PARTY, hides=True, args={"case_id": FAKE}),
    "GET portal.apply": Rule(APPLY), "POST portal.apply": Rule(APPLY),
    # the step-by-step application (app/portal/steps.py): before the draft, then a party's own draft
    "GET portal.begin": Rule(APPLY, args={"step": "unit"}), "POST portal.begin": Rule(APPLY, args={"step": "parties"}),
    "GET portal.step": Rule(PARTY, hides=True, args={"step": "check"}),
    "POST portal.step": Rule(PARTY, hides=True, args={"case_id": FAKE, "step": "check"}),
    "GET portal.my_units": Rule(APPLY), "GET portal.no_property": Rule(APPLY),
    "POST portal.no_property": Rule(PERSON, form={"purpose": "购房资格审核"}),
    # 全省无房证明: a province's page and API (this city answers 404 not_province to whoever may ask)
    "GET portal.province_no_property": Rule(APPLY),
    "POST portal.province_no_property": Rule(PERSON, form={"purpose": "购房资格审核"}),
    "GET portal.appointments_page": Rule(APPLY),
    "POST portal.appointments_page": Rule(APPLY, form={"business_type": "transfer_resale", "slot": "2020-01-06|am"}),
    "POST portal.cancel_appointment": Rule(APPLY, hides=True),
    "GET portal.certificate_pdf": Rule(OWN, hides=True),
    # 实名认证 of the portal account itself (a staff account is not verified here)
    "GET portal.verify": Rule(PORTAL), "POST portal.verify": Rule(PORTAL),
    "GET portal.verify_face": Rule(PORTAL), "POST portal.verify_face": Rule(PORTAL),
    "GET portal.organisation": Rule(PORTAL), "POST portal.organisation": Rule(PORTAL),
    # before submission: 询问笔录, 合同, face check, invitations — read by the parties and the office,
    # answered, attached, checked and sent by a party only
    "GET portal.inquiry_page": Rule(PARTY | OFFICE, hides=True),
    "GET portal.inquiry_pdf": Rule(PARTY | OFFICE, hides=True),
    "POST portal.inquiry_page": Rule(PARTY, hides=True, args={"case_id": FAKE}),
    "GET portal.filled_contract": Rule(PARTY | OFFICE, hides=True),
    "POST portal.attach_contract": Rule(PARTY, hides=True, args={"case_id": FAKE}),
    "POST portal.face": Rule(PARTY, hides=True, args={"case_id": FAKE}),
    "POST portal.invite": Rule(PARTY, hides=True, args={"case_id": FAKE}),
    # a party's own signature image only (an account signature has none: called as a missing object)
    "GET portal.signature_png": Rule(PARTY, hides=True, fake=True, args={"role": "seller"}),
    # after submission: notices, payment (paid by a party), receipt, delivery (chosen by a party)
    "GET portal.notice_pdf": Rule(PARTY | OFFICE, hides=True, fake=True),  # not issued before 受理
    "POST portal.pay": Rule(PARTY, hides=True, args={"case_id": FAKE}),
    "POST portal.rate_case_page": Rule(PARTY, hides=True, args={"case_id": FAKE}),
    "POST portal.rate_visit": Rule(APPLY, hides=True),  # one's own visit (another's: 预约不存在)
    "GET portal.paid": Rule(PARTY | OFFICE, hides=True),
    "GET portal.receipt": Rule(PARTY | OFFICE, hides=True, fake=True),  # not paid yet
    "POST portal.choose_delivery": Rule(PARTY, hides=True, args={"case_id": FAKE}),
    # --- applications API -------------------------------------------------------------------------------
    "GET applications.list_mine": Rule(OWN),
    "POST applications.create": Rule(APPLY, json={"business_type": "transfer_resale", "form": {}}),
    "GET applications.show": Rule(PARTY | OFFICE, hides=True),
    "PATCH applications.update": Rule(PARTY | OFFICE, hides=True, json={"form": {}}, args={"case_id": FAKE}),
    # 更正申请信息 at a stage: the clerk holding the case's open task (task:complete), per-field checked
    "PATCH applications.correct_fields": Rule(CLERKS, hides=True, json={"form": {}}, args={"case_id": FAKE}),
    "POST applications.upload_material": Rule(PARTY | OFFICE, hides=True, args={"case_id": FAKE}),
    "DELETE applications.delete_material": Rule(PARTY | OFFICE, hides=True, args={"case_id": FAKE}),
    "POST applications.confirm": Rule(PARTY | OFFICE, hides=True, args={"case_id": FAKE}),
    # 修改建议: a co-applicant proposes, the creator accepts or declines (app/cases/proposals.py)
    "POST applications.propose": Rule(PARTY | OFFICE, hides=True, json={"form": {}}, args={"case_id": FAKE}),
    "GET applications.list_proposals": Rule(PARTY | OFFICE, hides=True),
    "POST applications.accept_proposal": Rule(PARTY | OFFICE, hides=True, args={"case_id": FAKE}),
    "POST applications.decline_proposal": Rule(PARTY | OFFICE, hides=True, args={"case_id": FAKE}),
    "POST applications.submit": Rule(PARTY | OFFICE, hides=True, args={"case_id": FAKE}),
    "GET applications.show_progress": Rule(PARTY | OFFICE, hides=True),
    "GET applications.list_notices": Rule(PARTY | OFFICE, hides=True),
    "GET applications.notice_pdf": Rule(PARTY | OFFICE, hides=True, fake=True),  # not issued before 受理
    "GET integrations.list_verifications": Rule(PARTY | OFFICE, hides=True),
    "GET applications.show_inquiry": Rule(PARTY | OFFICE, hides=True),
    # consents: read by the parties, the holders who must consent and the office; given online by such a
    # holder (an applicant or institution account); a paper consent recorded by the 受理 clerk only
    "GET consents.list_consents": Rule(PARTY | OFFICE, hides=True),
    "POST consents.give_consent": Rule(APPLY, hides=True, args={"case_id": FAKE}),
    "POST consents.record_paper_consent": Rule(frozenset({"clerk"}), hides=True,
                                               json={"consenter_name": "王五", "consenter_id_number": "x"}),
    "PUT applications.answer_inquiry": Rule(PARTY, hides=True, json={"answers": {}}, args={"case_id": FAKE}),
    "POST applications.rate": Rule(PARTY, hides=True, json={"level": 5}, args={"case_id": FAKE}),
    "GET applications.rating": Rule(PARTY | OFFICE, hides=True),
    "POST applications.invite": Rule(PARTY, hides=True, json={"phone": "13900000000", "party_role": "buyer"},
                                     args={"case_id": FAKE}),
    "GET integrations.payment_statement": Rule(PARTY | OFFICE, hides=True),
    "POST integrations.start_payment": Rule(PARTY, hides=True, json={}, args={"case_id": FAKE}),
    "GET integrations.verification_pdf": Rule(PARTY | OFFICE, hides=True),
    # --- appointments -------------------------------------------------------------------------------------
    "GET appointments.slots": Rule(SIGNED_IN, query={"tenant_id": "330106"}),
    "POST appointments.book": Rule(APPLY, json={"tenant_id": "330106", "business_type": "transfer_resale",
                                                "day": "2020-01-06", "half": "am"}),
    "GET appointments.mine": Rule(SIGNED_IN),  # only ever the caller's own bookings
    "POST appointments.cancel": Rule(APPLY, hides=True),
    "GET appointments.day_list": Rule(OFFICE), "POST appointments.check_in": Rule(OFFICE, json={"code": "ABCD12"}),
    # --- tasks ------------------------------------------------------------------------------------------------
    "GET tasks.inbox": Rule(OFFICE), "POST tasks.search": Rule(OFFICE, json={"tab": "claimable"}),
    "GET tasks.show": Rule(OFFICE, hides=True),
    "POST tasks.claim": Rule(CLERKS, hides=True, args={"task_id": FAKE}),
    "POST tasks.release": Rule(CLERKS, hides=True, args={"task_id": FAKE}),
    "POST tasks.assign": Rule(NOBODY, hides=True, json={"assignee_id": FAKE}, args={"task_id": FAKE}),
    "POST tasks.claim_many": Rule(CLERKS, hides=True, json={"task_ids": [FAKE]}),
    "POST tasks.complete": Rule(CLERKS, hides=True, json=TASK, args={"task_id": FAKE}),
    # --- register and certificates -------------------------------------------------------------------
    "GET units.list_units": Rule(APPLY, query={"mine": 1}), "GET units.show_unit": Rule(OFFICE | APPLY, hides=True),
    "GET units.search_units": Rule(OFFICE | APPLY, query={"location": "文三路"}),  # others must give a purpose
    "GET certificates.download": Rule(PARTY | OFFICE, hides=True),
    "POST certificates.void": Rule(frozenset({"certifier"}), hides=True, json={"reason": "打印错误"},
                                   args={"certificate_id": FAKE}),
    "POST certificates.no_property": Rule(PERSON, json={"purpose": "购房资格审核"}),
    "POST certificates.province_no_property": Rule(PERSON, json={"purpose": "购房资格审核"}),
    "POST court.entrust": Rule(frozenset({"court"}), json={"business_type": "seizure", "form": {},
                                                           "documents": [{"code": "x", "content_base64": "eA=="}]}),
    # issue 19: an agent institution's 授权委托书 (no persona here is an agent: the bank is refused, 403), a
    # developer's building filing (application:create; a bad building code is a 422 to the allowed)
    "GET powers_of_attorney.list_mine": Rule(frozenset()),
    "POST powers_of_attorney.record": Rule(frozenset(), json={
        "principal_name": "张三", "principal_id_number": "x", "business_types": [], "unit_codes": [],
        "valid_from": "2026-01-01", "valid_until": "2026-12-31"}),
    # the agent that recorded it, the principal, or a window clerk (case:window_intake); anyone else: not found
    "POST powers_of_attorney.revoke": Rule(frozenset({"clerk"}), hides=True, fake=True,
                                           args={"power_of_attorney_id": FAKE}, json={"reason": "委托人撤销委托"}),
    "POST buildings.file_first_registrations": Rule(APPLY, args={"building_code": "x"}, json={
        "particulars": {}, "documents": [{"code": "x", "content_base64": "eA=="}]}),
    # --- operations --------------------------------------------------------------------------------------
    "GET integrations.list_interfaces": Rule(OPERATOR), "GET integrations.list_calls": Rule(OPERATOR),
    "POST admin_users.sync": Rule(OPERATOR, json={"users": []}),
    "GET integrations.list_outbox": Rule(OPERATOR),
    # --- institution channel (issue 19): batches and held 证明 for institution accounts (the court is one);
    # staff accounts for an institution's administrator (no persona here is one); supervision for operators
    "POST institutions.create_batch": Rule(INSTITUTION, json={"items": []}),
    "GET institutions.show_batch": Rule(INSTITUTION, hides=True, fake=True, args={"batch_id": FAKE}),
    "GET institutions.list_certificates": Rule(INSTITUTION | {"court"}),
    "GET institutions.list_staff": Rule(NOBODY),
    "POST institutions.create_staff": Rule(NOBODY, json={"username": "x", "password": "x"}),
    "POST institutions.disable_staff": Rule(NOBODY, args={"user_id": FAKE}),
    "POST institutions.enable_staff": Rule(NOBODY, args={"user_id": FAKE}),
    "POST institutions.reset_staff_password": Rule(NOBODY, json={"password": "x"}, args={"user_id": FAKE}),
    "GET institutions.supervision_list": Rule(OPERATOR),
    "GET institutions.supervision_detail": Rule(OPERATOR, fake=True, args={"institution_id": FAKE}),
    "POST institutions.change_port": Rule(OPERATOR, fake=True, json={"open": False, "reason": "x"},
                                          args={"institution_id": FAKE}),
    # --- workbench pages ----------------------------------------------------------------------------------
    "GET workbench.inbox": Rule(OFFICE), "POST workbench.inbox_search": Rule(OFFICE),
    # 电子档案: the archivist's (archive:read), whom no persona here holds (tests/api/test_archive_packages.py)
    "GET workbench.archive_index": Rule(NOBODY), "POST workbench.archive_index": Rule(NOBODY),
    "POST workbench.archive_consult": Rule(NOBODY, args={"package_id": FAKE}),
    "GET workbench.archive_consultation": Rule(NOBODY, args={"consultation_id": FAKE}),
    "GET workbench.archive_file": Rule(NOBODY, args={"consultation_id": FAKE, "seq": "1"}),
    "GET workbench.case_page": Rule(OFFICE, hides=True),
    "POST workbench.reveal": Rule(OFFICE, hides=True, args={"case_id": FAKE}),
    "GET workbench.verification_pdf": Rule(OFFICE, hides=True), "GET workbench.material": Rule(OFFICE, hides=True),
    "GET workbench.notice_pdf": Rule(OFFICE, hides=True, fake=True),
    "GET workbench.inquiry_pdf": Rule(OFFICE, hides=True),
    "GET workbench.case_process": Rule(OFFICE, hides=True),
    "GET workbench.report_pdf": Rule(OFFICE, hides=True, args={"code": "approval_form"}),
    "POST workbench.correct_fields": Rule(CLERKS, hides=True, args={"case_id": FAKE}),
    "POST workbench.record_paper_consent": Rule(frozenset({"clerk"}), hides=True,
                                                form={"consenter_name": "王五", "consenter_id_number": "x"}),
    "GET workbench.certificate_pdf": Rule(OFFICE, hides=True),
    # only the assignee of the case's open 缮证 task (test_certify_preview.py); the case here has none
    "GET workbench.certificate_preview": Rule(NOBODY, hides=True),
    "POST workbench.deliver": Rule(OFFICE, hides=True, args={"case_id": FAKE, "certificate_id": FAKE}),
    "POST workbench.claim_many": Rule(OFFICE), "POST workbench.claim": Rule(OFFICE, hides=True, args={"task_id": FAKE}),
    "POST workbench.release": Rule(OFFICE, hides=True, args={"task_id": FAKE}),
    "POST workbench.assign": Rule(OFFICE, hides=True, args={"task_id": FAKE}),
    "POST workbench.complete": Rule(OFFICE, hides=True, args={"task_id": FAKE}),
    "GET workbench.window_new": Rule(frozenset({"clerk"})), "POST workbench.window_create": Rule(frozenset({"clerk"})),
    "GET workbench.window_case": Rule(OFFICE, hides=True),
    "POST workbench.window_upload": Rule(frozenset({"clerk"}), hides=True, args={"case_id": FAKE}),
    "POST workbench.window_submit": Rule(OFFICE, hides=True, args={"case_id": FAKE}),
    # --- admin: configuration -------------------------------------------------------------------------------
    "GET admin.index": Rule(ANALYST), "GET admin.designer_page": Rule(ANALYST),
    "GET admin.version_list": Rule(ANALYST), "GET admin.version_xml": Rule(ANALYST),
    "GET admin.compare_versions": Rule(ANALYST), "POST admin.validate_diagram": Rule(ANALYST, json={"xml": "<x/>"}),
    "POST admin.save_draft": Rule(DEFS_EDIT, json={"xml": "<x/>"}),
    "POST admin.publish_diagram": Rule(DEFS_EDIT, json={"xml": "<x/>"}),
    "POST admin.dry_run": Rule(ANALYST, json={"xml": "<x/>"}),
    "POST admin.compare_draft": Rule(ANALYST, json={"xml": "<x/>"}),  # reads only: the draft is not saved
    "GET admin.migration_page": Rule(DEFS_EDIT), "POST admin.migration_plan": Rule(DEFS_EDIT),
    "POST admin.migration_execute": Rule(DEFS_EDIT),
    "GET admin.form_list": Rule(ANALYST), "GET admin.form_edit": Rule(ANALYST),
    "POST admin.form_save": Rule(DEFS_EDIT, form={"action": "save"}), "POST admin.form_preview": Rule(ANALYST),
    "GET admin.type_edit": Rule(ANALYST), "POST admin.type_save_business": Rule(DEFS_EDIT),
    "POST admin.type_save_materials": Rule(DEFS_EDIT),
    "POST admin.type_save_stage_permissions": Rule(DEFS_EDIT), "POST admin.type_save_reports": Rule(DEFS_EDIT),
    "POST admin.type_export": Rule(DEFS_EDIT),
    "POST admin.import_definitions": Rule(DEFS_EDIT),
    "GET admin.import_upload": Rule(DEFS_EDIT), "POST admin.import_read": Rule(DEFS_EDIT),
    "POST admin.import_apply": Rule(DEFS_EDIT, form={"source": "x"}),
    "GET admin.dictionary_index": Rule(DEFS_EDIT), "GET admin.dictionary_list": Rule(DEFS_EDIT),
    "GET admin.dictionary_new": Rule(DEFS_EDIT), "POST admin.dictionary_new": Rule(DEFS_EDIT),
    "GET admin.dictionary_edit": Rule(DEFS_EDIT, args={"code": "residential"}),
    "POST admin.dictionary_edit": Rule(DEFS_EDIT, args={"code": FAKE}),
    "POST admin.dictionary_delete": Rule(DEFS_EDIT, args={"code": FAKE}),
    "POST admin.dictionary_seed": Rule(DEFS_EDIT),
    # --- admin: operations (运维管理) ---------------------------------------------------------------------
    "GET admin.user_list": Rule(OPERATOR), "GET admin.institution_list": Rule(OPERATOR),
    "GET admin.user_new": Rule(OPERATOR), "POST admin.user_new": Rule(OPERATOR),
    "GET admin.user_edit": Rule(OPERATOR), "POST admin.user_edit": Rule(OPERATOR, args={"user_id": FAKE}),
    "POST admin.user_set_active": Rule(OPERATOR, args={"user_id": FAKE}),
    "POST admin.user_reset_password": Rule(OPERATOR, args={"user_id": FAKE}),
    "POST admin.user_unlock": Rule(OPERATOR, args={"user_id": FAKE}),
    "POST admin.user_reset_totp": Rule(OPERATOR, args={"user_id": FAKE}),
    "GET admin.role_list": Rule(OPERATOR), "GET admin.role_new": Rule(OPERATOR), "POST admin.role_new": Rule(OPERATOR),
    "GET admin.role_edit": Rule(OPERATOR), "POST admin.role_edit": Rule(OPERATOR, args={"code": FAKE}),
    "POST admin.role_delete": Rule(OPERATOR), "GET admin.permission_list": Rule(OPERATOR),
    "GET admin.org_list": Rule(OPERATOR), "POST admin.org_list": Rule(OPERATOR),
    "GET admin.tenant_list": Rule(OPERATOR), "POST admin.tenant_list": Rule(OPERATOR),
    "POST admin.tenant_set_enabled": Rule(OPERATOR, args={"code": "999999"}),
    # interfaces (the test call and breaker reset with an unknown code: no call to a department)
    "GET admin.interface_list": Rule(OPERATOR), "GET admin.interface_edit": Rule(OPERATOR, args={"code": "gongan"}),
    "POST admin.interface_edit": Rule(OPERATOR, args={"code": FAKE}),
    "POST admin.interface_test": Rule(OPERATOR, args={"code": FAKE}),
    "GET admin.calendar_index": Rule(OPERATOR), "POST admin.calendar_enter": Rule(OPERATOR, form={"year": "x"}),
    "POST admin.interface_reset": Rule(OPERATOR, args={"code": FAKE}),
    # the intranet's return files (光盘摆渡; the upload without a file: refused as input, nothing imported)
    "GET admin.ferry_returns": Rule(OPERATOR), "POST admin.ferry_return_upload": Rule(OPERATOR),
    # logs and supervision (综合监管), statistics
    "GET admin.log_list": Rule(OPERATOR), "GET admin.log_export": Rule(OPERATOR),
    "GET admin.log_trace": Rule(OPERATOR, query={"business_no": "x"}),
    "GET admin.audit_chain": Rule(OPERATOR), "POST admin.audit_chain": Rule(OPERATOR),
    "GET admin.stats_dashboard": Rule(OPERATOR), "GET admin.stats_data": Rule(OPERATOR),
    "GET admin.stats_cases": Rule(OPERATOR), "GET admin.stats_export": Rule(OPERATOR),
    "GET admin.institution_supervision": Rule(OPERATOR),
    "GET admin.institution_port_page": Rule(OPERATOR, fake=True, args={"institution_id": FAKE}),
    "POST admin.institution_port_change": Rule(OPERATOR, fake=True, form={"reason": "x"},
                                               args={"institution_id": FAKE}),
}


def _objects(db: Any, login: Any, case: dict[str, Any]) -> dict[str, str]:
    """Real objects of 西湖区 to read: 张三's submitted case, its 受理 task, a material, a verification
    record and his flat (certificates are not issued yet: their routes are called with an unknown id)."""
    seller = login("zhangsan")
    case_id = case["id"]
    detail = seller.get(f"/api/v1/applications/{case_id}").get_json()
    clerk = login("xh_acceptor")
    task = clerk.get("/api/v1/tasks", query_string={"business_no": case["business_no"]}).get_json()["items"][0]
    snapshot = seller.get(f"/api/v1/applications/{case_id}/verifications").get_json()["items"][0]
    return {"case_id": case_id, "task_id": task["id"], "material_id": detail["materials"][0]["id"], "proposal_id": FAKE,
            "snapshot_id": snapshot["id"], "unit_code": detail["form"]["unit_code"], "certificate_id": FAKE,
            "kind": "acceptance",
            "appointment_id": FAKE, "user_id": _user_id(db, "xh_acceptor"), "version_id": FAKE,
            "code": "transfer_resale", "name": "transfer_resale", "filename": "app.css"}


def _user_id(db: Any, username: str) -> str:
    from sqlalchemy import select

    from app.identity.models import User

    with db.unit_of_work() as session:
        return session.execute(select(User.id).where(User.username == username)).scalar_one()


ARG_OVERRIDES = {"admin.dictionary_list": {"kind": "uses"}, "admin.dictionary_new": {"kind": "uses"},
                 "admin.dictionary_edit": {"kind": "uses"}, "admin.dictionary_delete": {"kind": "uses"},
                 "admin.role_edit": {"code": "recorder"}, "admin.role_delete": {"code": "recorder"},
                 "admin.form_edit": {"name": FORM}, "admin.form_save": {"name": FORM},
                 "admin.form_preview": {"name": FORM}}


SIGN_IN_ROUTES = {"accounts.login", "accounts.login_totp", "accounts.logout"}


class Persona:
    """One persona's way in: a bearer token for the API, a signed-in session (with CSRF token) for pages."""

    def __init__(self, app: Any, login: Any, name: str, username: str | None) -> None:
        self.name = name
        self.api_headers: dict[str, str] = {}
        self.client: FlaskClient = app.test_client()
        if username is None:
            self.csrf = PageUser._token(self.client.get("/login").get_data(as_text=True))
        else:
            self.api_headers = login(username).headers
            self.csrf = PageUser(self.client, username).csrf

    def call(self, method: str, path: str, rule: Rule, endpoint: str) -> Any:
        if endpoint in SIGN_IN_ROUTES:  # they start or end sessions: a scratch client keeps the persona's
            scratch = self.client.application.test_client()
            token = PageUser._token(scratch.get("/login").get_data(as_text=True))
            return scratch.open(path, method=method, data={"csrf_token": token} if method == "POST" else None)
        if path.startswith("/api/"):
            kwargs: dict[str, Any] = {"headers": self.api_headers, "query_string": rule.query}
            if rule.json is not None:
                kwargs["json"] = rule.json
            elif method == "POST" and "materials" in path:
                kwargs.update(data={"code": "x", "file": (io.BytesIO(PDF), "x.pdf")},
                              content_type="multipart/form-data")
            return self.client.open(path, method=method, **kwargs)
        headers = {"X-CSRFToken": self.csrf}
        if rule.json is not None:
            return self.client.open(path, method=method, json=rule.json,
                                    headers={**headers, "Accept": "application/json"})
        data = {**rule.form, "csrf_token": self.csrf} if method == "POST" else None
        return self.client.open(path, method=method, data=data, query_string=rule.query,
                                headers={**headers, "Accept": "text/html"})


def _verdict(resp: Any, rule: Rule, allowed: bool, real_object: bool) -> str | None:
    """What is wrong with this answer, or None."""
    status = resp.status_code
    to_login = status == 302 and resp.headers.get("Location", "").startswith("/login")
    if status >= 500:
        return f"server error {status}"
    if rule.allowed == EVERYONE:
        return None
    if allowed:
        if status in (401, 403) or to_login or (rule.hides and real_object and status == 404):
            return f"expected allowed, got {status} {resp.headers.get('Location', '')}"
        return None
    if status in (401, 403) or to_login or (rule.hides and status == 404):
        return None
    return f"expected refused, got {status} {resp.headers.get('Location', '')}"


def test_every_route_is_declared_and_enforced(seeded: Any, db: Any, login: Any, tmp_path: Path,
                                              submitted_transfer: dict[str, Any]) -> None:
    app = seeded
    # the analyst's allowed calls save and export definitions: into a copy, never into the repository
    for folder in ("processes", "forms", "dictionaries"):
        shutil.copytree(ROOT / folder, tmp_path / "defs" / folder)
    app.config["SETTINGS"].definitions_root = tmp_path / "defs"
    app.config["WTF_CSRF_ENABLED"] = True
    routes = []
    for url_rule in app.url_map.iter_rules():
        for method in sorted((url_rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((f"{method} {url_rule.endpoint}", method, url_rule))
    undeclared = sorted(key for key, _, _ in routes if key not in EXPECT)
    assert not undeclared, f"routes without a declared expectation: {undeclared}"
    stale = sorted(set(EXPECT) - {key for key, _, _ in routes})
    assert not stale, f"expectations for routes that no longer exist: {stale}"

    objects = _objects(db, login, submitted_transfer)
    personas = [Persona(app, login, name, username) for name, username in PERSONAS.items()]
    wrong: list[str] = []
    for key, method, url_rule in routes:
        rule = EXPECT[key]
        values = {**objects, **ARG_OVERRIDES.get(url_rule.endpoint, {}), **rule.args}
        with app.test_request_context():
            from flask import url_for

            path = url_for(url_rule.endpoint, **{a: values[a] for a in url_rule.arguments})
        for persona in personas:
            resp = persona.call(method, path, rule, url_rule.endpoint)
            real_object = not rule.fake and FAKE not in path + repr(rule.json)
            problem = _verdict(resp, rule, persona.name in rule.allowed, real_object)
            if problem:
                wrong.append(f"{key} {path} as {persona.name}: {problem}")
    assert not wrong, "\n".join(wrong)


def test_a_new_endpoint_without_a_declaration_is_caught(own_app: Any) -> None:
    """The guard itself: a route added without a line in the table is what the first check reports."""
    own_app.add_url_rule("/undeclared", "undeclared", lambda: "")
    keys = {f"{m} {r.endpoint}" for r in own_app.url_map.iter_rules()
            for m in (r.methods or set()) - {"HEAD", "OPTIONS"}}
    assert keys - set(EXPECT) == {"GET undeclared"}


def test_office_staff_read_but_do_not_change_a_draft_in_the_portal(login: Any, page_login: Any) -> None:
    """The table calls the portal's writes with an unknown case (a real one would be changed), so it cannot tell
    a party from a clerk who may read the case. Here on a real draft: the clerk sees it and is refused (403) on
    every write of the applicants' skin; the party's own save goes through."""
    created = login("zhangsan").post("/api/v1/applications", json={"business_type": "transfer_resale",
                                                                  "form": transfer_form()})
    assert created.status_code == 201, created.get_json()
    case = f"/my/applications/{created.get_json()['id']}"
    material = created.get_json()["materials"][0]["id"] if created.get_json()["materials"] else FAKE
    clerk = page_login("xh_acceptor")
    assert clerk.get(f"{case}/edit").status_code == 200
    for path, data in ((f"{case}/form", {"price": "1"}), (f"{case}/materials", {"code": "x"}),
                       (f"{case}/materials/{material}/delete", {}), (f"{case}/contract", {}),
                       (f"{case}/inquiry", {}), (f"{case}/face", {}), (f"{case}/submit", {}),
                       (f"{case}/pay", {}), (f"{case}/delivery", {"method": "hall"})):
        assert clerk.post_form(path, data).status_code == 403, path
    seller = page_login("zhangsan")
    assert seller.post_form(f"{case}/form", {}).status_code == 302
