"""The departments' query services (DOMAIN.md §5): each answers from the fictional world. Queries carrying
personal data are POSTs with JSON bodies, so names and ID numbers never appear in URLs or access logs."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from simulator.common import body, department, mark, state

bp = Blueprint("sim_departments", __name__)


def _not_found(message: str) -> Any:
    return jsonify(found=False, message=message), 404


@bp.post("/gongan/identity/verify")
@department("gongan")
def identity_verify(mismatch: bool) -> Any:
    """公安 name + ID number check: a per-field mark and the card particulars when the person exists."""
    q = body()
    person = state().world.people.get(str(q.get("id_number", "")).upper())
    if person is None:
        return jsonify(found=False, result="不一致", fields={"name": "不一致", "id_number": "不一致"})
    name = person["name"] + ("某" if mismatch else "")
    fields = {"name": mark(name, q.get("name")), "id_number": "一致"}
    result = "一致" if all(v == "一致" for v in fields.values()) else "不一致"
    public = {k: person[k] for k in ("sex", "ethnicity", "birth_date", "issuing_authority", "valid_until")}
    return jsonify(found=True, result=result, fields=fields, particulars=public)


@bp.post("/gongan/household/query")
@department("gongan")
def household(mismatch: bool) -> Any:
    person = state().world.people.get(str(body().get("id_number", "")).upper())
    if person is None:
        return _not_found("无此户籍信息")
    return jsonify(found=True, household_no=person["household_no"], head_name=person["name"],
                   relation="户主", address=person["address"], former_names=[])


@bp.post("/minzheng/marriage/query")
@department("minzheng")
def marriage(mismatch: bool) -> Any:
    """民政 marital status by ID number; ``mismatch`` flips 已婚/未婚 as a stale record would."""
    record = state().world.marriages.get(str(body().get("id_number", "")).upper())
    if record is None:
        return jsonify(found=False, status="无登记记录", records=[])
    status = record["status"]
    if mismatch:
        status = "未婚" if status == "已婚" else "已婚"
    return jsonify(found=True, status=status, records=record["records"])


@bp.post("/shichang/licence/query")
@department("shichang")
def business_licence(mismatch: bool) -> Any:
    q = body()
    company = state().world.companies.get(str(q.get("uscc", "")).upper())
    if company is None:
        return jsonify(found=False, result="不一致", fields={"uscc": "不一致", "name": "不一致"})
    name = company["name"] + ("（已更名）" if mismatch else "")
    fields = {"uscc": "一致", "name": mark(name, q.get("name")), "status": mark("存续", company["status"])}
    return jsonify(found=True, result="一致" if set(fields.values()) == {"一致"} else "不一致", fields=fields,
                   licence={**company, "name": name})


@bp.post("/jinrong/licence/query")
@department("jinrong")
def financial_licence(mismatch: bool) -> Any:
    q = body()
    licence = state().world.financial_licences.get(str(q.get("uscc", "")).upper())
    if licence is None:
        return jsonify(found=False, result="不一致", fields={"institution": "不一致"})
    status = "已注销" if mismatch else licence["status"]
    fields = {"institution": mark(licence["institution"], q.get("name")), "status": mark("有效", status)}
    return jsonify(found=True, result="一致" if set(fields.values()) == {"一致"} else "不一致", fields=fields,
                   licence={**licence, "status": status})


@bp.post("/zhujian/contracts/query")
@department("zhujian")
def contract(mismatch: bool) -> Any:
    """住建 网签备案 lookup by contract number; ``mismatch`` returns a different filed price."""
    found = state().world.contracts.get(str(body().get("contract_no", "")).strip())
    if found is None:
        return _not_found("未查询到该网签备案合同")
    record = dict(found)
    if mismatch:
        record["price"] = str(int(float(record["price"])) + 100_000)
    return jsonify(found=True, contract=record)


@bp.post("/fayuan/documents/query")
@department("fayuan")
def court_document(mismatch: bool) -> Any:
    document = state().world.court_documents.get(str(body().get("doc_no", "")).strip())
    if document is None:
        return _not_found("未查询到该法律文书")
    return jsonify(found=True, document={**document, "effective_date": "未生效" if mismatch
                                         else document["effective_date"]})


@bp.post("/sifa/notarial/query")
@department("sifa")
def notarial(mismatch: bool) -> Any:
    cert = state().world.notarial.get(str(body().get("cert_no", "")).strip())
    if cert is None:
        return _not_found("未查询到该公证书")
    return jsonify(found=True, result="不一致" if mismatch else "一致", certificate=cert)


@bp.post("/weijian/certificates/query")
@department("weijian")
def vital_certificate(mismatch: bool) -> Any:
    cert = state().world.vital.get(str(body().get("cert_no", "")).strip())
    if cert is None:
        return _not_found("未查询到该医学证明")
    return jsonify(found=True, result="不一致" if mismatch else "一致", certificate=cert)
