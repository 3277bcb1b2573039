"""Safe expressions and scripts for BPMN diagrams drawn by business analysts.

SpiffWorkflow's default ``PythonScriptEngine`` ``exec()``s diagram text with full builtins, so a diagram
could run anything (``__import__('os')``). Here every condition, timer, service parameter, message payload
and script goes through two independent layers:

1. **A static AST whitelist** (``check_expression`` / ``check_script``), run when a definition is loaded
   *and* again before every evaluation. It admits literals, names bound to task data, comparisons,
   ``and/or/not``, arithmetic, ``in``, subscripts, ``x if c else y``, list/tuple/dict/set displays, simple
   f-strings and calls *only* to functions named in the registry. No attribute access at all (so no
   ``__class__`` walks), no ``__names``, no lambdas, comprehensions, walrus, ``*``/``**`` unpacking. A
   script is a sequence of ``name = expr`` (or ``name += expr``) statements — nothing else.
2. **simpleeval's ``EvalWithCompoundTypes`` as the interpreter**, hardened: attribute, comprehension,
   import and assignment handlers are removed, names resolve only in task data, calls only in our
   registry, and every operator result is bounded (strings/collections ≤ ``MAX_LENGTH``, integers
   < 10^``MAX_INT_DIGITS``, ``**`` and repetition are checked *before* computing, ``%`` on strings and
   f-string format specs are refused because they allocate unbounded padding).

We never call ``eval``/``exec``. The whitelist keeps the language small enough to reason about;
simpleeval means a whitelist slip still meets an interpreter that cannot reach Python internals.
"""
from __future__ import annotations

import ast
import difflib
import functools
import json
import math
import operator as op
import re
import textwrap
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from lxml import etree
from simpleeval import EvalWithCompoundTypes, InvalidExpression
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition as _Timer
from SpiffWorkflow.exceptions import WorkflowException

from app.engine.connectors import NSMAP, SPIFF_NS, call_connector
from app.errors import DefinitionError, DomainError

MAX_TEXT_LENGTH = 20_000  # characters of one expression or script
MAX_LENGTH = 100_000  # characters/items of any string or collection an operator or function produces
MAX_INT_DIGITS = 40  # integers stay below 10**40 (amounts in fen need ~16)
_MAX_INT = 10**MAX_INT_DIGITS
CHINA_TZ = timezone(timedelta(hours=8), "CST")  # China has one zone and no DST


class ExpressionError(WorkflowException):
    """An expression or script failed; ``reason`` is the Chinese text, ``line`` its line in the text."""

    def __init__(self, reason: str, *, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.line = reason, line


class ExpressionRejected(ExpressionError):
    """The text uses something outside the safe language (refused, never attempted)."""


# ------------------------------------------------------------------------------------------- static check
_ALLOWED_OPS = {ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.UAdd, ast.USub,
                ast.Not, ast.And, ast.Or, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In,
                ast.NotIn, ast.Is, ast.IsNot}
_PLAIN = (ast.Expression, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Subscript,
          ast.Slice, ast.List, ast.Tuple, ast.Set, ast.JoinedStr, ast.Load)
_OP_SYMBOLS = {ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>",
               ast.MatMult: "@", ast.Invert: "~"}
_COMPREHENSION = "不允许使用推导式或生成器表达式"
_REFUSED = {ast.Lambda: "不允许使用 lambda 函数", ast.ListComp: _COMPREHENSION, ast.SetComp: _COMPREHENSION,
            ast.DictComp: _COMPREHENSION, ast.GeneratorExp: _COMPREHENSION,
            ast.NamedExpr: "不允许使用 := 赋值表达式", ast.Starred: "不允许使用 * 展开"}
Problem = tuple[str, int]  # (reason, 1-based line in the checked text)


def _node_problem(node: ast.AST, line: int) -> Problem | None:
    line = getattr(node, "lineno", line)
    kind, children = type(node), list(ast.iter_child_nodes(node))
    if kind in _ALLOWED_OPS or isinstance(node, _PLAIN):
        pass
    elif kind is ast.Constant:
        if type(node.value) not in (str, int, float, bool, type(None)):
            return f"不支持的常量类型 {type(node.value).__name__}", line
    elif kind is ast.Name:
        if node.id.startswith("__"):
            return f"不允许使用以双下划线开头的名称 {node.id}", line
    elif kind is ast.Attribute:  # report the root cause first: __import__('os').system → __import__
        return _node_problem(node.value, line) or (f"不允许访问属性 .{node.attr}", line)
    elif kind is ast.Call:
        if isinstance(node.func, ast.Name):
            if node.func.id not in _FUNCTIONS:
                return f"表达式使用了不允许的函数 {node.func.id}", line
            children = [*node.args, *node.keywords]
        elif not isinstance(node.func, (ast.Attribute, ast.Lambda)):
            return "只能直接调用已登记的函数", line
    elif kind is ast.keyword:
        if node.arg is None or node.arg.startswith("__"):
            return "不允许使用 ** 展开或以双下划线开头的参数名", line
    elif kind is ast.Dict:
        if any(key is None for key in node.keys):
            return "不允许使用 ** 展开字典", line
    elif kind is ast.FormattedValue:
        if node.format_spec is not None or node.conversion != -1:
            return "f-字符串不支持格式说明或 !r/!s 转换", line
    elif kind in _OP_SYMBOLS:
        return f"不支持的运算符 {_OP_SYMBOLS[kind]}", line
    else:
        return _REFUSED.get(kind, f"不支持的语法 {kind.__name__}"), line
    for child in children:
        found = _node_problem(child, line)
        if found:
            return found
    return None


def _statement_problem(stmt: ast.stmt) -> Problem | None:
    line = stmt.lineno
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
    elif isinstance(stmt, ast.AugAssign) and type(stmt.op) in _ALLOWED_OPS:
        target = stmt.target
    elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return "脚本不允许导入模块", line
    elif isinstance(stmt, ast.Expr):
        return _node_problem(stmt.value, line) or ("脚本只允许赋值语句（变量 = 表达式）", line)
    else:
        return f"脚本只允许赋值语句（变量 = 表达式），不支持 {type(stmt).__name__}", line
    if isinstance(target, ast.Attribute):
        return f"不允许访问属性 .{target.attr}", line
    if not isinstance(target, ast.Name):
        return "赋值目标只能是一个变量名", line
    if target.id.startswith("__"):
        return f"不允许使用以双下划线开头的名称 {target.id}", line
    return _node_problem(stmt.value, line)


@functools.lru_cache(maxsize=2048)
def _compile(text: str, mode: str) -> tuple[ast.AST | None, Problem | None]:
    """Parse + whitelist once per distinct text; ``mode`` is "eval" (expression) or "exec" (script)."""
    if not isinstance(text, str):
        return None, (f"表达式必须是文本，实际为 {type(text).__name__}", 1)
    if len(text) > MAX_TEXT_LENGTH:
        return None, (f"表达式过长（上限 {MAX_TEXT_LENGTH} 个字符）", 1)
    stripped = text.strip()
    lead = text[: len(text) - len(text.lstrip())].count("\n")  # keep line numbers of the original text
    source = "\n" * lead + stripped if mode == "eval" else textwrap.dedent(text)
    if mode == "eval" and not stripped:
        return None, ("表达式为空", 1)
    try:
        tree = ast.parse(source, mode=mode)
        found = (_node_problem(tree, 1) if mode == "eval"
                 else next(filter(None, map(_statement_problem, tree.body)), None))
    except SyntaxError as err:
        return None, (f"语法错误：{err.msg}（第 {err.lineno} 行）", err.lineno or 1)
    except (RecursionError, MemoryError):
        return None, ("表达式嵌套过深", 1)
    return (None, found) if found else (tree, None)


def check_expression(text: str) -> str | None:
    """Why ``text`` is not an allowed expression (Chinese), or None if it is."""
    found = _compile(text, "eval")[1]
    return found[0] if found else None


def check_script(text: str) -> str | None:
    """Why ``text`` is not an allowed script (Chinese), or None if it is."""
    found = _compile(text, "exec")[1]
    return found[0] if found else None


def _compiled(text: str, mode: str) -> ast.AST:
    tree, found = _compile(text, mode)
    if found:
        raise ExpressionRejected(found[0], line=found[1])
    assert tree is not None
    return tree


# ---------------------------------------------------------------------------------------------- functions
_FUNCTIONS: dict[str, tuple[Callable[..., Any], bool]] = {}


def register_function(name: str, *, needs_context: bool = False,
                      replace: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Expose ``fn`` to diagrams as ``name(...)``; the registry is the only way a diagram calls code.

    With ``needs_context`` the engine's per-run ``context`` (DB session, case …) is passed first, so
    functions like ``unit_status(code)`` can query without globals.
    """
    if not name.isidentifier() or name.startswith("_"):
        raise ValueError(f"invalid function name: {name!r}")

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in _FUNCTIONS and not replace and _FUNCTIONS[name][0] is not fn:
            raise ValueError(f"expression function {name!r} is already registered")
        _FUNCTIONS[name] = (fn, needs_context)
        _compile.cache_clear()  # cached verdicts depend on which names are registered
        return fn

    return register


def registered_functions() -> set[str]:
    """Names diagrams may call (for the designer's autocomplete and for error hints)."""
    return set(_FUNCTIONS)


for _builtin in (len, str, int, float, abs, min, max, bool):
    register_function(_builtin.__name__)(_builtin)


@register_function("round")
def safe_round(number: Any, ndigits: int | None = None) -> Any:
    """``round`` with bounded ``ndigits``: ``round(5, -10**39)`` would compute 10**(10**39) and hang."""
    if ndigits is not None and (not isinstance(ndigits, int) or abs(ndigits) > 20):
        raise ExpressionError(f"round 的小数位数必须是 -20 到 20 之间的整数，实际为 {ndigits!r}")
    return round(number, ndigits)


@register_function("date_today")
def date_today() -> str:
    """Today in China as ``YYYY-MM-DD``; strings keep task data plain JSON."""
    return datetime.now(CHINA_TZ).date().isoformat()


@register_function("now_iso")
def now_iso() -> str:
    """Now in China, ISO 8601 with offset, to the second."""
    return datetime.now(CHINA_TZ).isoformat(timespec="seconds")


@register_function("working_days_after")
def working_days_after(iso_date: str, n: int) -> str:
    """The date ``n`` working days after ``iso_date`` (statutory time limits count working days)."""
    # Imported lazily: the calendar module (holidays, override table) is owned and loaded separately.
    from app.engine.workdays import add_working_days

    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 3660:
        raise ExpressionError(f"working_days_after 的天数必须是 0 到 3660 之间的整数，实际为 {n!r}")
    try:
        start = date.fromisoformat(str(iso_date)[:10])
    except ValueError:
        raise ExpressionError(f"working_days_after 的日期格式无效：{iso_date!r}") from None
    return add_working_days(start, n).isoformat()


# ------------------------------------------------------------------------------------------------ runtime
def _bounded(value: Any) -> Any:
    """Refuse oversized results. Containers are measured *expanded* (strings by length, nested items
    counted), since ``x1 = [x0, x0]`` repeated doubles the size ``str()`` or the serializer would build."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _MAX_INT:
        raise ExpressionRejected(f"数值超出允许范围（绝对值须小于 10^{MAX_INT_DIGITS}）")
    budget, stack = MAX_LENGTH, [value]
    while stack:
        item = stack.pop()
        budget -= len(item) if isinstance(item, (str, list, tuple, dict, set, frozenset)) else 1
        if budget < 0:
            raise ExpressionRejected(f"结果过长（上限 {MAX_LENGTH} 个字符或元素）")
        if isinstance(item, dict):
            stack.extend(item.keys()), stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
    return value


def _mult(a: Any, b: Any) -> Any:
    for seq, times in ((a, b), (b, a)):
        if isinstance(seq, (str, list, tuple)) and isinstance(times, int) and len(seq) * times > MAX_LENGTH:
            raise ExpressionRejected(f"结果过长（上限 {MAX_LENGTH}）")
    return a * b


def _power(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1 \
            and b * math.log10(abs(a)) >= MAX_INT_DIGITS:
        raise ExpressionRejected(f"数值超出允许范围（绝对值须小于 10^{MAX_INT_DIGITS}）")
    return a**b


def _mod(a: Any, b: Any) -> Any:
    if isinstance(a, str):
        raise ExpressionRejected("不支持用 % 格式化字符串，请用 str() 和 + 拼接")
    return a % b


_RAW_OPS: dict[type, Callable[..., Any]] = {
    ast.Add: op.add, ast.Sub: op.sub, ast.Mult: _mult, ast.Div: op.truediv, ast.FloorDiv: op.floordiv,
    ast.Mod: _mod, ast.Pow: _power, ast.UAdd: op.pos, ast.USub: op.neg, ast.Not: op.not_,
    ast.Eq: op.eq, ast.NotEq: op.ne, ast.Lt: op.lt, ast.LtE: op.le, ast.Gt: op.gt, ast.GtE: op.ge,
    ast.In: lambda x, y: x in y, ast.NotIn: lambda x, y: x not in y,
    ast.Is: lambda x, y: x is y, ast.IsNot: lambda x, y: x is not y}


def _bounding(fn: Callable[..., Any]) -> Callable[..., Any]:
    return lambda *args: _bounded(fn(*args))


_OPERATORS = {kind: _bounding(fn) for kind, fn in _RAW_OPS.items()}
_ERROR_TEXT = {ZeroDivisionError: "除数为零", KeyError: "找不到键", IndexError: "下标越界",
               TypeError: "类型不匹配", ValueError: "取值无效", OverflowError: "数值溢出"}


class _Evaluator(EvalWithCompoundTypes):
    """simpleeval with everything but our whitelist removed; see the module docstring."""

    def __init__(self, names: Mapping[str, Any], context: object | None) -> None:
        super().__init__(operators=dict(_OPERATORS), functions={}, names=names)
        self.functions = {name: functools.partial(fn, context) if needs else fn
                          for name, (fn, needs) in _FUNCTIONS.items()}
        for unsafe in (ast.Attribute, ast.ListComp, ast.GeneratorExp, ast.DictComp, ast.Import,
                       ast.Assign, ast.AugAssign, ast.Expr):
            self.nodes.pop(unsafe, None)
        self.nodes[ast.Name], self.nodes[ast.Call] = self._name, self._call
        for display in (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.JoinedStr):
            self.nodes[display] = _bounding(self.nodes[display])

    def _name(self, node: ast.Name) -> Any:
        try:
            return self.names[node.id]
        except KeyError:
            close = difflib.get_close_matches(node.id, [str(k) for k in self.names], n=1)
            hint = f"（是否应为 {close[0]}？）" if close else ""
            raise ExpressionError(f"未定义的变量 {node.id}{hint}", line=node.lineno) from None

    def _call(self, node: ast.Call) -> Any:
        fn = self.functions.get(node.func.id) if isinstance(node.func, ast.Name) else None
        if fn is None:
            raise ExpressionRejected("只能调用已登记的函数", line=node.lineno)
        args = [self._eval(arg) for arg in node.args]
        return _bounded(fn(*args, **{kw.arg: self._eval(kw.value) for kw in node.keywords}))


def _evaluate_node(node: ast.AST, names: Mapping[str, Any], context: object | None) -> Any:
    try:
        return _Evaluator(names, context).eval("", previously_parsed=node)
    except ExpressionError as err:  # also raised by registered functions, which know no line
        err.line = err.line or getattr(node, "lineno", None)
        raise
    except DomainError:
        raise
    except InvalidExpression as err:
        raise ExpressionRejected(f"表达式不被允许：{err}", line=getattr(node, "lineno", None)) from err
    except RecursionError:
        raise ExpressionRejected("表达式嵌套过深") from None
    except Exception as err:
        label = next((t for k, t in _ERROR_TEXT.items() if isinstance(err, k)), type(err).__name__)
        detail = "" if isinstance(err, (ZeroDivisionError, IndexError, OverflowError)) else f" {err}"
        raise ExpressionError(f"表达式求值出错：{label}{detail}",
                              line=getattr(node, "lineno", None)) from err


def evaluate_expression(text: str, data: Mapping[str, Any], *, extra: Mapping[str, Any] | None = None,
                        context: object | None = None) -> Any:
    """Value of a safe expression over ``data`` (then ``extra``); raises ``ExpressionError``/``DomainError``."""
    tree = _compiled(text, "eval")
    return _evaluate_node(tree.body, ChainMap(data, dict(extra or {})), context)  # type: ignore[attr-defined]


def run_script(text: str, data: dict[str, Any], *, extra: Mapping[str, Any] | None = None,
               context: object | None = None) -> dict[str, Any]:
    """Run ``name = expr`` lines in order; ``data`` is updated only if all succeed (no half-done scripts)."""
    written: dict[str, Any] = {}
    names = ChainMap(written, data, dict(extra or {}))
    for stmt in _compiled(text, "exec").body:  # type: ignore[attr-defined]
        value = _evaluate_node(stmt.value, names, context)
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target
        if isinstance(stmt, ast.AugAssign):  # name += expr  ≡  name = name + (value of expr)
            node = ast.BinOp(ast.Name(target.id, ast.Load()), stmt.op, ast.Constant(value))
            value = _evaluate_node(ast.copy_location(node, stmt), names, context)
        written[target.id] = value
    data.update(written)
    return written


# --------------------------------------------------------------------------------------------- BPMN check
@dataclass(frozen=True)
class ExpressionProblem:
    """One refused expression in a diagram, located well enough for an analyst to fix it."""

    file: str
    element_id: str
    line: int | None
    expression: str
    reason: str

    def as_error(self) -> DefinitionError:
        """The same problem as the typed error skins already know how to render."""
        return DefinitionError(self.reason, file=self.file, element=self.element_id or None, line=self.line)


_B, _S = "bpmn:", "spiffworkflow:"
_TEXT_SOURCES = (  # (xpath, kind) — every place SpiffWorkflow 3.2 hands text to the script engine
    (f".//{_B}sequenceFlow/{_B}conditionExpression", "eval"), (f".//{_B}scriptTask/{_B}script", "exec"),
    (f".//{_B}timerEventDefinition/{_B}timeDate", "timeDate"),
    (f".//{_B}timerEventDefinition/{_B}timeDuration", "timeDuration"),
    (f".//{_B}timerEventDefinition/{_B}timeCycle", "timeCycle"),
    (f".//{_B}extensionElements/{_S}preScript", "exec"), (f".//{_B}extensionElements/{_S}postScript", "exec"),
    (f".//{_S}messagePayload", "eval"), (f".//{_S}payloadExpression", "eval"),
    (f".//{_S}processVariableCorrelation/{_S}expression", "eval"),
    (f".//{_B}correlationPropertyRetrievalExpression/*", "eval"),
    (f".//{_B}conditionalEventDefinition/{_B}condition", "eval"),
    (f".//{_B}standardLoopCharacteristics/{_B}loopCondition", "eval"),
    (f".//{_B}multiInstanceLoopCharacteristics/{_B}loopCardinality", "eval"),
    (f".//{_B}multiInstanceLoopCharacteristics/{_B}completionCondition", "eval"),
    (f".//{_B}adHocSubProcess/{_B}completionCondition", "eval"),
)


def _parse_duration(value: str) -> Any:
    if not value.upper().startswith("P"):  # Spiff's own parser strips the P, so check it here
        raise ValueError(value)
    return _Timer.parse_iso_duration(value)


def _parse_date(value: str) -> Any:
    if not isinstance(_Timer.parse_time_or_duration(value), datetime):  # what Spiff does at runtime
        raise TypeError(value)


_TIMER_PARSERS: dict[str, Callable[[str], Any]] = {
    "timeDate": _parse_date, "timeCycle": _Timer.parse_iso_recurring_interval, "timeDuration": _parse_duration}
_TIMER_EXAMPLES = {"timeDate": '"2026-01-05T09:00:00+08:00"', "timeCycle": '"R3/PT1H"',
                   "timeDuration": '"P3D"、"PT2H"'}
_BARE_ISO = re.compile(r"^(R\d*|P(\d|T\d))")  # P3D, PT2H, R3 … written without quotes parse as names


def _owner_id(element: Any) -> str:
    """Id of the diagram element an analyst would click (flow, task, event), not of wrapper nodes."""
    for anc in element.iterancestors():
        name = etree.QName(anc)
        if name.namespace == SPIFF_NS or name.localname == "extensionElements" \
                or name.localname.endswith(("EventDefinition", "LoopCharacteristics", "RetrievalExpression")):
            continue
        if anc.get("id"):
            return str(anc.get("id"))
    return ""


def _timer_problem(text: str, kind: str) -> Problem | None:
    """Spiff evaluates timer text as an expression, so ``P3D`` must be written ``"P3D"``."""
    body = _compile(text, "eval")[0].body  # type: ignore[union-attr]
    if isinstance(body, ast.Name) and _BARE_ISO.match(body.id):
        return f"计时器表达式是字符串，需要加引号，例如 \"{body.id}\"", 1
    if isinstance(body, ast.Constant) and isinstance(body.value, str):
        try:
            _TIMER_PARSERS[kind](body.value)
        except Exception:  # noqa: BLE001 — Spiff's parsers raise bare Exception/ValueError/AttributeError
            return f"计时器格式无效：{body.value}（示例：{_TIMER_EXAMPLES[kind]}）", 1
    return None


def check_bpmn_expressions(xml: bytes, filename: str = "process.bpmn") -> list[ExpressionProblem]:
    """Every expression/script in a diagram that the safe engine would refuse, with element and line.

    Run at load/publish so a bad diagram never reaches a case. Operator existence is not checked
    here (see ``connectors.service_operators_in``).
    """
    try:
        data = xml.encode("utf-8") if isinstance(xml, str) else xml
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as err:
        return [ExpressionProblem(filename, "", err.lineno, "", f"XML 格式错误：{err.msg}")]
    found: list[ExpressionProblem] = []
    items = [(el, el.text or "", kind, el.sourceline) for xpath, kind in _TEXT_SOURCES
             for el in root.iterfind(xpath, NSMAP)]
    items += [(p, p.get("value", ""), "eval", p.sourceline)
              for p in root.iterfind(f".//{_S}serviceTaskOperator//{_S}parameter[@value]", NSMAP)]
    for el, text, kind, line in items:
        problem = _compile(text, "exec" if kind == "exec" else "eval")[1]
        if problem is None and kind in _TIMER_PARSERS:
            problem = _timer_problem(text, kind)
        if problem is not None:
            where = (line + problem[1] - 1) if line else None
            found.append(ExpressionProblem(filename, _owner_id(el), where, text.strip(), problem[0]))
    return sorted(found, key=lambda p: (p.line or 0, p.element_id))


# ----------------------------------------------------------------------------------------------- engine
def domain_error_of(exc: BaseException | None) -> DomainError | None:
    """The ``DomainError`` behind an engine failure, so the caller can roll back and show its message."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, DomainError):
            return exc
        if isinstance(getattr(exc, "domain_error", None), DomainError):
            return exc.domain_error  # type: ignore[attr-defined, no-any-return]
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


class _SafeEnvironment(BasePythonScriptEngineEnvironment):
    """Spiff also calls ``engine.environment.evaluate`` directly (ad hoc subprocess completion, message
    correlations), bypassing ``engine.evaluate`` — so the environment must be safe too."""

    def __init__(self, engine: SafeScriptEngine) -> None:
        super().__init__()
        self._engine = engine

    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        return evaluate_expression(expression, context, extra=external_context, context=self._engine.context)

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        run_script(script, context, extra=external_context, context=self._engine.context)
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> str:
        raise ExpressionRejected("服务任务只能通过 SafeScriptEngine.call_service 调用")


class SafeScriptEngine(PythonScriptEngine):
    """The only script engine our workflows run with. Set ``context`` per run; it reaches connectors
    and context-aware functions. Failures raise ``WorkflowTaskException`` (Spiff marks the task ERROR
    and its reporting works); ``domain_error_of(exc)`` recovers a ``DomainError`` raised underneath."""

    def __init__(self, context: object | None = None) -> None:
        super().__init__(environment=_SafeEnvironment(self))
        self.context: object | None = context

    def validate(self, expression: str) -> None:
        ast.parse(str(expression).strip(), mode="eval")  # SyntaxError first: the DMN engine relies on it
        reason = check_expression(expression)
        if reason:
            raise ExpressionRejected(reason)

    def evaluate(self, task: Any, expression: str, external_context: Any = None) -> Any:
        try:
            return evaluate_expression(expression, task.data, extra=external_context, context=self.context)
        except WorkflowTaskException:
            raise
        except Exception as err:
            raise _task_error(task, err, expression) from err

    def execute(self, task: Any, script: str, external_context: Any = None) -> bool:
        try:
            run_script(script, task.data, extra=external_context, context=self.context)
        except WorkflowTaskException:
            raise
        except Exception as err:
            raise _task_error(task, err, script) from err
        return True

    def call_service(self, task: Any, operation_name: str = "", operation_params: dict[str, Any] | None = None,
                     **kwargs: Any) -> str:
        """Params arrive already evaluated (Spiff's ``ServiceTask.evaluate_params`` ran each ``value``
        through ``self.evaluate``) as ``{id: {"value": v, "type": t}}``; we pass ``{id: v}`` on."""
        params = {k: (p.get("value") if isinstance(p, dict) else p) for k, p in (operation_params or {}).items()}
        try:
            result = call_connector(operation_name, self.context, params)
            try:
                return json.dumps(result, ensure_ascii=False)
            except (TypeError, ValueError) as err:
                raise TypeError(f"result is not plain JSON: {err}") from err
        except WorkflowTaskException:
            raise
        except Exception as err:
            raise _task_error(task, err, None, f"服务任务 {operation_name} 调用失败") from err


def _task_error(task: Any, err: Exception, text: str | None, prefix: str = "") -> WorkflowTaskException:
    """Wrap so Spiff's reporting (task trace, line) works, keeping ``reason`` and any ``DomainError``."""
    line = err.line if isinstance(err, ExpressionError) else None
    if isinstance(err, (ExpressionError, DomainError)):
        message = err.reason if isinstance(err, ExpressionError) else err.message
    else:
        message = f"{prefix}：{type(err).__name__}: {err}" if prefix else f"{type(err).__name__}: {err}"
    lines = (text or "").splitlines()
    error_line = lines[line - 1] if line and 0 < line <= len(lines) else ""
    wrapped = WorkflowTaskException(message, task=task, exception=err, line_number=line, error_line=error_line)
    wrapped.reason = message  # type: ignore[attr-defined]
    wrapped.domain_error = domain_error_of(err)  # type: ignore[attr-defined]
    return wrapped
