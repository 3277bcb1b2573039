"""Registration types are data: the shipped ones load, and a broken definition is refused with the file,
element and line an analyst needs. Each negative case is a temp copy of a shipped type with one edit."""
from __future__ import annotations

from pathlib import Path

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState
from support.definitions import OPERATORS, REPO, copy_definitions, edit

import app.cases.sharing.tax  # noqa: F401  (registers tax_paid(), which transfer_resale's gateway reads)
from app.catalog.definitions import (
    BusinessTypeDef,
    check_definitions,
    load_all,
    load_business_type,
)
from app.engine.script_engine import SafeScriptEngine
from app.errors import DefinitionError


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_definitions(tmp_path)


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def problems(root: Path, **kwargs: object) -> list[DefinitionError]:
    return check_definitions(root, operators=OPERATORS, **kwargs)  # type: ignore[arg-type]


def only_problem(root: Path) -> DefinitionError:
    found = problems(root)
    assert len(found) == 1, [e.message for e in found]
    return found[0]


def bpmn_of(root: Path) -> Path:
    return root / "processes" / "transfer_resale" / "process.bpmn"


def by_code(root: Path) -> dict[str, BusinessTypeDef]:
    return {d.code: d for d in load_all(root, operators=OPERATORS)}


# ------------------------------------------------------------------------------------------ shipped types
def test_the_shipped_types_load_without_problems() -> None:
    assert problems(REPO) == []
    types = by_code(REPO)
    assert set(types) == {"transfer_resale", "mortgage_first", "mortgage_cancel", "holder_change", "objection",
                          "seizure", "seizure_release", "first_registration", "advance_notice", "first_transfer",
                          "correction", "feedback_followup", "mortgage_change", "advance_mortgage"}
    # 差评整改 is the platform's own (app/feedback): every step in the office leader's lane, nothing applied for
    followup = types["feedback_followup"]
    assert followup.applicant_mode == "内部"
    assert [(t.role, t.stage) for t in followup.user_tasks] == [
        ("team_leader", "核实"), ("team_leader", "联系"), ("team_leader", "整改"), ("team_leader", "答复")]


def test_a_loaded_type_carries_its_tasks_forms_parties_fees_and_materials() -> None:
    transfer = by_code(REPO)["transfer_resale"]
    assert transfer.process_id == "transfer_resale"
    assert (transfer.reg_class, transfer.category, transfer.applicant_mode) == ("20", "转移", "双方")
    assert [(t.name, t.role, t.stage, t.form_key) for t in transfer.user_tasks] == [
        ("受理", "acceptor", "受理", "decision_accept"),
        ("审核", "reviewer", "审核", "decision_review"),
        ("完税催办", "reviewer", "完税", "decision_tax_wait"),
        ("登簿", "recorder", "登簿", "decision_record"),
        ("缮证", "certifier", "缮证", "decision_certify"),
        ("补正材料", "applicant", "补正", "correction"),
    ]
    assert set(transfer.forms) == {"transfer_resale_application", "decision_accept", "decision_review",
                                   "decision_record", "decision_certify", "correction", "decision_tax_wait"}
    assert [(p.role, p.label) for p in transfer.parties] == [("seller", "转让方"), ("buyer", "受让方")]
    assert {(f.amount_yuan, f.when) for f in transfer.fees} == {(80, 'use == "住宅"'), (550, 'use == "非住宅"')}
    assert "power_of_attorney" in {m.code for m in transfer.materials}


def test_the_mortgagee_is_an_organisation_identified_by_uscc() -> None:
    mortgage = by_code(REPO)["mortgage_first"]
    mortgagee = next(p for p in mortgage.parties if p.role == "mortgagee")
    assert (mortgagee.kind, mortgagee.id_field) == ("org", "mortgagee_uscc")
    assert mortgage.forms["mortgage_first_application"]["properties"]["mortgagee_uscc"]["format"] == "uscc"


def test_loading_one_type_directory_gives_the_same_definition_as_loading_all() -> None:
    single = load_business_type(REPO / "processes" / "mortgage_first", REPO / "forms", operators=OPERATORS)
    assert single.content_sha256 == by_code(REPO)["mortgage_first"].content_sha256


@pytest.mark.parametrize("code", ["transfer_resale", "mortgage_first"])
def test_a_shipped_process_runs_with_the_safe_engine_from_submission_to_registration(code: str) -> None:
    from SpiffWorkflow.bpmn.util.event import BpmnEvent
    from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition

    class OfflineEngine(SafeScriptEngine):
        def call_service(self, task, operation_name="", operation_params=None, **kwargs):  # type: ignore[no-untyped-def]
            return '{"due_at": "2099-01-01T00:00:00+08:00"}' if operation_name == "tax.await_payment" else "{}"

    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(REPO / "processes" / code / "process.bpmn"))
    wf = BpmnWorkflow(parser.get_spec(code), parser.get_subprocess_specs(code), script_engine=OfflineEngine())
    wf.do_engine_steps()
    seen = []
    for decision in ["correct", None, "approve", "approve", "approve", "approve"]:
        [task] = wf.get_tasks(state=TaskState.READY, manual=True)
        seen.append(task.task_spec.bpmn_name)
        task.set_data(decision=decision, opinion="同意")
        task.run()
        wf.do_engine_steps()
        if not wf.get_tasks(state=TaskState.READY, manual=True) and not wf.completed:  # waits for 完税 (税务)
            wf.send_event(BpmnEvent(MessageEventDefinition("tax_paid"), {}))
            wf.do_engine_steps()
    assert seen == ["受理", "补正材料", "受理", "审核", "登簿", "缮证"]
    assert wf.completed
    assert "end_registered" in {t.task_spec.name for t in wf.get_tasks(state=TaskState.COMPLETED)}


# ------------------------------------------------------------------------------------------ broken BPMN
def test_a_bpmn_with_an_xml_syntax_error_is_refused_with_its_file_and_line(root: Path) -> None:
    edit(bpmn_of(root), '<bpmn:userTask id="task_review" name="审核">', '<bpmn:userTask id="task_review" name="审核"')
    error = only_problem(root)
    assert error.file == "processes/transfer_resale/process.bpmn"
    assert error.line == line_of(bpmn_of(root), 'id="task_review"') + 1
    assert "XML" in error.message


def test_a_user_task_without_form_key_is_refused_with_its_element_and_line(root: Path) -> None:
    edit(bpmn_of(root), '<spiffworkflow:property name="formKey" value="decision_review" />', "")
    error = only_problem(root)
    assert (error.file, error.element) == ("processes/transfer_resale/process.bpmn", "task_review")
    assert error.line == line_of(bpmn_of(root), 'id="task_review"')
    assert "formKey" in error.message


def test_a_lane_named_by_an_unknown_role_is_refused(root: Path) -> None:
    edit(bpmn_of(root), '<bpmn:lane id="lane_reviewer" name="reviewer">',
         '<bpmn:lane id="lane_reviewer" name="审核员">')
    error = only_problem(root)
    assert (error.element, error.line) == ("lane_reviewer", line_of(bpmn_of(root), 'id="lane_reviewer"'))
    assert "角色" in error.message


def test_a_form_key_without_a_form_file_is_refused(root: Path) -> None:
    edit(bpmn_of(root), 'value="decision_record"', 'value="decision_recrod"')
    error = only_problem(root)
    assert (error.element, error.line) == ("task_record", line_of(bpmn_of(root), 'id="task_record"'))
    assert "forms/decision_recrod.json" in error.message


def test_an_unsafe_gateway_condition_is_refused_with_its_element_and_line(root: Path) -> None:
    unsafe = "__import__(&apos;os&apos;).system(&apos;x&apos;)"
    edit(bpmn_of(root), 'decision == &quot;reject&quot;</bpmn:conditionExpression>',
         f"{unsafe}</bpmn:conditionExpression>")
    error = only_problem(root)
    assert error.file == "processes/transfer_resale/process.bpmn"
    assert error.element == "flow_accept_reject"
    assert error.line == line_of(bpmn_of(root), unsafe)
    assert "__import__" in error.message


def test_a_service_task_with_an_unregistered_operator_is_refused(root: Path) -> None:
    edit(bpmn_of(root), 'id="registry.record"', 'id="registry.erase"')
    error = only_problem(root)
    assert error.element == "service_record"
    assert "registry.erase" in error.message


def test_without_an_explicit_operator_set_the_connector_registry_decides(root: Path) -> None:
    from app.engine.connectors import known_operators, service_operators_in

    found = check_definitions(root)
    expected = sum(1 for bpmn in sorted((root / "processes").glob("*/process.bpmn"))
                   for _, operator, _ in service_operators_in(bpmn.read_bytes()) if operator not in known_operators())
    assert len(found) == expected


def test_an_end_event_must_be_named_by_an_outcome(root: Path) -> None:
    path = bpmn_of(root)
    path.write_text(path.read_text(encoding="utf-8").replace("end_refused", "end_denied"), encoding="utf-8")
    error = only_problem(root)
    assert error.element == "end_denied"
    assert "end_refused" in error.message


def test_stage_and_due_days_are_checked(root: Path) -> None:
    edit(bpmn_of(root), 'name="stage" value="审核"', 'name="stage" value="初审"')
    edit(bpmn_of(root), 'name="dueDays" value="2"', 'name="dueDays" value="两天"')
    messages = [e.message for e in problems(root)]
    assert any("初审" in m for m in messages) and any("两天" in m for m in messages)


def test_the_process_id_must_equal_the_type_code(root: Path) -> None:
    path = bpmn_of(root)
    path.write_text(path.read_text(encoding="utf-8").replace('"transfer_resale"', '"transfer_2"'), encoding="utf-8")
    assert any("transfer_resale" in e.message and e.element == "transfer_2" for e in problems(root))


# ------------------------------------------------------------------------------------------ broken YAML
def test_a_business_yaml_shape_error_names_the_key_path_and_line(root: Path) -> None:
    path = root / "processes" / "transfer_resale" / "business.yaml"
    edit(path, "amount_yuan: 550", "amount_yuan: 五百五十")
    error = only_problem(root)
    assert (error.element, error.line) == ("fees[1].amount_yuan", line_of(path, "五百五十"))
    assert "整数" in error.message


def test_inquiry_questions_and_the_contract_template_are_checked(root: Path) -> None:
    path = root / "processes" / "transfer_resale" / "business.yaml"
    edit(path, "    kind: choice\n    options: [无其他共有人, 有其他共有人且均已同意, 有其他共有人但未同意]\n",
         "    kind: choice\n")
    error = only_problem(root)
    assert error.element == "inquiry[1]" and "options" in error.message
    edit(path, "    kind: choice\n", "    kind: choice\n    options: [有, 无]\n")
    edit(path, "  - code: disputes", "  - code: voluntary")
    edit(path, "  material: sale_contract", "  material: contract_scan")
    found = sorted(e.element or "" for e in problems(root))
    assert found == ["contract.material", "inquiry[2].code"], [e.message for e in problems(root)]


def test_the_guide_shows_the_inquiry_and_the_contract_of_the_definition() -> None:
    from app.catalog.guide import service_guide

    definition = load_business_type(REPO / "processes" / "transfer_resale", REPO / "forms", OPERATORS)
    guide = service_guide(definition)
    assert [q["code"] for q in guide["inquiry"]] == ["voluntary", "co_owners_agree", "disputes", "price_true",
                                                     "remarks"]
    assert guide["contract"]["material"] == "sale_contract"


def test_a_yaml_syntax_error_reports_its_line(root: Path) -> None:
    path = root / "processes" / "mortgage_first" / "materials.yaml"
    edit(path, "  name: 抵押合同\n", "  name: [抵押合同\n")
    error = only_problem(root)
    assert error.file == "processes/mortgage_first/materials.yaml"
    assert "YAML" in error.message and error.line is not None


def test_party_fields_must_exist_in_the_application_form(root: Path) -> None:
    path = root / "processes" / "transfer_resale" / "business.yaml"
    edit(path, "id_field: buyer_id_number", "id_field: buyer_idcard")
    error = only_problem(root)
    assert (error.element, error.line) == ("parties[1].id_field", line_of(path, "buyer_idcard"))


def test_members_from_the_register_need_a_multiple_role_that_does_not_become_the_holder(root: Path) -> None:
    path = root / "processes" / "transfer_resale" / "business.yaml"
    edit(path, "    multiple: true  # co-owners", "    multiple: false  # co-owners")
    error = only_problem(root)
    assert error.element == "parties[0].from_register" and "multiple" in error.message
    edit(path, "    multiple: false  # co-owners", "    multiple: true  # co-owners")
    edit(path, "holder_roles: [buyer]", "holder_roles: [seller]")
    error = only_problem(root)
    assert error.element == "parties[0].from_register" and "权利人" in error.message


def test_material_codes_are_unique_and_conditions_name_real_fields(root: Path) -> None:
    path = root / "processes" / "transfer_resale" / "materials.yaml"
    edit(path, "- code: buyer_identity", "- code: seller_identity")
    edit(path, "condition: share_mode ==", "condition: share_mod ==")
    messages = [e.message for e in problems(root)]
    assert any("seller_identity 重复" in m for m in messages)
    assert any("share_mod" in m for m in messages)


def test_an_unsafe_material_condition_is_refused(root: Path) -> None:
    path = root / "processes" / "mortgage_first" / "materials.yaml"
    edit(path, "condition: has_agent == True", "condition: has_agent.__class__")
    error = only_problem(root)
    assert error.element == "[11].condition"
    assert error.line == line_of(path, "has_agent.__class__")


def test_an_invalid_form_schema_is_refused(root: Path) -> None:
    edit(root / "forms" / "decision_certify.json", '"minLength": 2', '"minLength": "两"')
    error = only_problem(root)
    assert error.file == "forms/decision_certify.json"


# ------------------------------------------------------------------------------------------ narrowing, versions
def test_checking_one_file_reports_only_that_file(root: Path) -> None:
    edit(bpmn_of(root), 'value="decision_record"', 'value="nope"')
    edit(root / "processes" / "transfer_resale" / "business.yaml", "time_limit_days: 5", "time_limit_days: 0")
    business = root / "processes" / "transfer_resale" / "business.yaml"
    assert [e.file for e in problems(root, only=business)] == ["processes/transfer_resale/business.yaml"]
    assert len(problems(root, only=root / "processes" / "transfer_resale")) == 2
    assert problems(root, only=root / "processes" / "mortgage_first") == []


def test_load_refuses_a_broken_type_and_lists_every_problem(root: Path) -> None:
    edit(bpmn_of(root), '<spiffworkflow:property name="formKey" value="decision_review" />', "")
    edit(bpmn_of(root), '<bpmn:lane id="lane_reviewer" name="reviewer">', '<bpmn:lane id="lane_reviewer" name="x">')
    with pytest.raises(DefinitionError) as exc:
        load_all(root, operators=OPERATORS)
    assert len(exc.value.errors["definitions"]) == 2


def test_the_content_hash_does_not_depend_on_where_the_files_live(root: Path) -> None:
    assert by_code(root)["transfer_resale"].content_sha256 == by_code(REPO)["transfer_resale"].content_sha256


def test_changing_a_form_a_type_uses_changes_its_content_hash_but_not_its_bpmn_hash(root: Path) -> None:
    before = by_code(root)
    edit(root / "forms" / "decision_review.json", '"title": "审核意见"', '"title": "审核意见（初审）"')
    after = by_code(root)
    for code in ("transfer_resale", "mortgage_first"):
        assert after[code].content_sha256 != before[code].content_sha256
        assert after[code].bpmn_sha256 == before[code].bpmn_sha256


def test_changing_one_types_application_form_leaves_the_other_type_version_alone(root: Path) -> None:
    before = by_code(root)
    edit(root / "forms" / "mortgage_first_application.json", '"title": "抵押合同编号"', '"title": "抵押合同号"')
    after = by_code(root)
    assert after["mortgage_first"].content_sha256 != before["mortgage_first"].content_sha256
    assert after["transfer_resale"].content_sha256 == before["transfer_resale"].content_sha256
