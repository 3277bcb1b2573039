"""The electronic-records encapsulation package (EEP) of DA/T 48《基于XML的电子文件封装规范》: building it,
reading it, and checking it with nothing but the package and the public key (OFFLINE: no database, no
network — a receiving archive or a court runs ``verify_package`` or ``flask archives verify``).

Structure kept from the standard: ``电子文件封装包`` holds ``封装包格式描述``, ``版本``, the ``被签名对象``
(``封装包类型`` … ``封装内容`` with ``文件实体块`` — descriptive metadata and every document, base64 in
``编码数据`` — ``业务实体块`` (the process history: who did what, when, on what basis) and
``机构人员实体块``), and the ``电子签名块``. Two reasonable departures, said here so nobody mistakes them:
each document's ``编码`` carries its SHA-256 (``摘要``), and each ``电子签名`` carries an RFC 3161
``时间戳`` token. The signature (the office's ECDSA P-256 key, the certificate PKI of app/registry/signing.py)
and the time stamp both cover the SHA-256 of the 被签名对象's exclusive XML canonicalisation, so any change
inside it — a byte of a file, a digest, a line of history — voids both.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

NS = "http://www.saac.gov.cn/standards/ERM/encapsulation"
VERSION = "2009"
FORMAT_NOTE = "本EEP根据中华人民共和国档案行业标准DA/T 48-2009《基于XML的电子文件封装规范》生成"
SIGNED = "被签名对象"


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _sub(parent: etree._Element, tag: str, text: Any = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, _q(tag), {k: str(v) for k, v in attrs.items()})
    if text is not None:
        el.text = str(text)
    return el


@dataclass(frozen=True)
class Document:
    """One document of the package (a material, a notice, the certificate, a JSON record …)."""

    kind: str
    title: str
    filename: str
    content_type: str
    content: bytes
    pages: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class Description:
    """文件实体 metadata (来源, 档号, 内容描述, 形式特征)."""

    archive_no: str
    fonds: str  # 全宗名称 / 立档单位
    year: int
    retention: str
    category: str
    title: str
    business_no: str
    unit_code: str | None
    business_type: str
    outcome: str
    created_at: str


@dataclass(frozen=True)
class Action:
    """业务实体: one line of the process history."""

    at: str
    actor: str
    status: str
    action: str
    basis: str
    description: str


@dataclass(frozen=True)
class Agent:
    """机构人员实体."""

    ident: str
    kind: str  # 单位 | 个人
    name: str
    org_code: str = ""
    position: str = ""


def build_signed_object(desc: Description, documents: list[Document], actions: list[Action],
                        agents: list[Agent]) -> etree._Element:
    signed = etree.Element(_q(SIGNED), {"eep版本": VERSION}, nsmap={None: NS})
    _sub(signed, "封装包类型", "原始型")
    _sub(signed, "封装包类型描述", "本封装包包含电子文件数据及其元数据，原始封装，未经修改")
    _sub(signed, "封装包创建时间", desc.created_at)
    _sub(signed, "封装包创建单位", desc.fonds)
    content = _sub(signed, "封装内容")
    entity = _sub(_sub(content, "文件实体块"), "文件实体")
    _sub(entity, "聚合层次", "件")
    source = _sub(entity, "来源")
    _sub(source, "档案馆名称", desc.fonds)
    _sub(source, "全宗名称", desc.fonds)
    _sub(source, "立档单位名称", desc.fonds)
    number = _sub(entity, "档号")
    _sub(number, "档号", desc.archive_no)
    _sub(number, "年度", desc.year)
    _sub(number, "保管期限", desc.retention)
    _sub(number, "类别", desc.category)
    _sub(number, "件号", desc.business_no)
    about = _sub(entity, "内容描述")
    _sub(about, "题名", desc.title)
    _sub(about, "业务号", desc.business_no)
    _sub(about, "不动产单元号", desc.unit_code or "")
    _sub(about, "业务类型", desc.business_type)
    _sub(about, "办理结果", desc.outcome)
    form = _sub(entity, "形式特征")
    _sub(form, "文件组合类型", "组合文件")
    _sub(form, "件数", len(documents))
    _sub(form, "页数", sum(d.pages for d in documents))
    data = _sub(entity, "文件数据")
    for n, doc in enumerate(documents, start=1):
        document = _sub(data, "文档", 文档标识符=f"D{n}")
        _sub(document, "文档序号", n)
        _sub(document, "文档类别", doc.kind)
        _sub(document, "题名", doc.title)
        coded = _sub(_sub(document, "文档数据", 文档数据标识符=f"D{n}-1"), "编码", 编码标识符=f"D{n}-1-1")
        props = _sub(coded, "电子属性")
        _sub(props, "格式信息", doc.content_type)
        _sub(props, "计算机文件名", doc.filename)
        _sub(props, "计算机文件大小", len(doc.content))
        _sub(props, "页数", doc.pages)
        _sub(coded, "编码描述", "本封装包中“编码数据”元素存储的是计算机文件二进制流的Base64编码")
        _sub(coded, "反编码关键字", "base64")
        _sub(coded, "摘要", doc.sha256, 算法="SHA-256")
        _sub(coded, "编码数据", base64.b64encode(doc.content).decode())
    business = _sub(content, "业务实体块")
    for n, act in enumerate(actions, start=1):
        row = _sub(business, "业务实体")
        _sub(row, "业务标识符", f"B{n}")
        _sub(row, "机构人员标识符", act.actor)
        _sub(row, "业务状态", act.status)
        _sub(row, "业务行为", act.action)
        _sub(row, "行为时间", act.at)
        _sub(row, "行为依据", act.basis)
        _sub(row, "行为描述", act.description)
    people = _sub(content, "机构人员实体块")
    for agent in agents:
        row = _sub(people, "机构人员实体")
        _sub(row, "机构人员标识符", agent.ident)
        _sub(row, "机构人员类型", agent.kind)
        _sub(row, "机构人员名称", agent.name)
        _sub(row, "组织机构代码", agent.org_code)
        _sub(row, "个人职位", agent.position)
    return signed


def canonical(signed: etree._Element) -> bytes:
    """Exclusive C14N of the 被签名对象: the exact bytes signed and stamped."""
    return etree.tostring(signed, method="c14n", exclusive=True)


def assemble(signed: etree._Element, *, signature: bytes, cert_pem: bytes, signer: str, signed_at: str,
             token: bytes | None) -> bytes:
    root = etree.Element(_q("电子文件封装包"), nsmap={None: NS})
    _sub(root, "封装包格式描述", FORMAT_NOTE)
    _sub(root, "版本", VERSION)
    root.append(signed)
    block = _sub(root, "电子签名块")
    sig = _sub(block, "电子签名")
    _sub(sig, "签名标识符", "S1")
    _sub(sig, "签名规则", "对“被签名对象”元素的排他式XML规范化（Exclusive C14N）结果计算SHA-256并以ECDSA签名")
    _sub(sig, "签名时间", signed_at)
    _sub(sig, "签名人", signer)
    _sub(sig, "签名结果", base64.b64encode(signature).decode())
    certs = _sub(sig, "证书块")
    _sub(certs, "证书", base64.b64encode(cert_pem).decode())
    _sub(certs, "证书引证", "登记机构电子签章证书")
    _sub(sig, "签名算法标识", "ecdsa-with-SHA256")
    if token is not None:
        _sub(sig, "时间戳", base64.b64encode(token).decode(), 格式="RFC3161")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


@dataclass
class ParsedPackage:
    signed: etree._Element
    signature: bytes
    cert_pem: bytes
    token: bytes | None
    archive_no: str
    documents: list[dict[str, Any]] = field(default_factory=list)

    @property
    def signed_bytes(self) -> bytes:
        return canonical(self.signed)


def parse(xml: bytes) -> ParsedPackage:
    """Read a package (``ValueError`` when it is not one); refuses DTDs and entities (an XML bomb or an
    external entity must not reach the verifier)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"不是有效的XML：{exc}") from exc
    if root.tag != _q("电子文件封装包") or root.getroottree().docinfo.doctype:
        raise ValueError("不是电子文件封装包（DA/T 48）")
    signed = root.find(_q(SIGNED))
    sig = root.find(f"{_q('电子签名块')}/{_q('电子签名')}")
    if signed is None or sig is None:
        raise ValueError("封装包缺少被签名对象或电子签名块")
    token = sig.findtext(_q("时间戳"))
    package = ParsedPackage(signed=signed, signature=base64.b64decode(sig.findtext(_q("签名结果")) or ""),
                            cert_pem=base64.b64decode(sig.findtext(f"{_q('证书块')}/{_q('证书')}") or ""),
                            token=base64.b64decode(token) if token else None,
                            archive_no=signed.findtext(".//" + _q("档号") + "/" + _q("档号")) or "")
    for document in signed.iter(_q("文档")):
        coded = document.find(f"{_q('文档数据')}/{_q('编码')}")
        if coded is None:
            raise ValueError("文档缺少编码数据")
        package.documents.append({
            "seq": int(document.findtext(_q("文档序号")) or 0), "kind": document.findtext(_q("文档类别")),
            "title": document.findtext(_q("题名")),
            "filename": coded.findtext(f"{_q('电子属性')}/{_q('计算机文件名')}"),
            "content_type": coded.findtext(f"{_q('电子属性')}/{_q('格式信息')}"),
            "sha256": coded.findtext(_q("摘要")), "data": coded.findtext(_q("编码数据")) or ""})
    return package


def document_content(package: ParsedPackage, seq: int) -> tuple[dict[str, Any], bytes]:
    for doc in package.documents:
        if doc["seq"] == seq:
            return doc, base64.b64decode(doc["data"])
    raise KeyError(seq)
