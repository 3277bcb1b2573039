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
import math
import operator as op
import textwrap
from collections import ChainMap
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from simpleeval import EvalWithCompoundTypes, InvalidExpression
from SpiffWorkflow.exceptions import WorkflowException

from app.clock import CHINA
from app.engine.providers import load_providers
from app.errors import DomainError

MAX_TEXT_LENGTH = 20_000  # characters of one expression or script
MAX_LENGTH = 100_000  # characters/items of any string or collection an operator or function produces
MAX_INT_DIGITS = 40  # integers stay below 10**40 (amounts in fen need ~16)
_MAX_INT = 10**MAX_INT_DIGITS


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
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and (isinstance(node.left, ast.JoinedStr) or (
            isinstance(node.left, ast.Constant) and isinstance(node.left.value, str))):
        return "不支持用 % 格式化字符串，请用 str() 和 + 拼接", line  # refused at run time too (_mod)
    if kind in _ALLOWED_OPS or isinstance(node, _PLAIN):
        pass
    elif isinstance(node, ast.Constant):
        if type(node.value) not in (str, int, float, bool, type(None)):
            return f"不支持的常量类型 {type(node.value).__name__}", line
    elif isinstance(node, ast.Name):
        if node.id.startswith("__"):
            return f"不允许使用以双下划线开头的名称 {node.id}", line
    elif isinstance(node, ast.Attribute):  # report the root cause first: __import__('os').system → __import__
        return _node_problem(node.value, line) or (f"不允许访问属性 .{node.attr}", line)
    elif isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name):
            if node.func.id not in _FUNCTIONS:
                return f"表达式使用了不允许的函数 {node.func.id}", line
            children = [*node.args, *node.keywords]
        elif not isinstance(node.func, (ast.Attribute, ast.Lambda)):
            return "只能直接调用已登记的函数", line
    elif isinstance(node, ast.keyword):
        if node.arg is None or node.arg.startswith("__"):
            return "不允许使用 ** 展开或以双下划线开头的参数名", line
    elif isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            return "不允许使用 ** 展开字典", line
    elif isinstance(node, ast.FormattedValue):
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
        found = (next(filter(None, map(_statement_problem, tree.body)), None) if isinstance(tree, ast.Module)
                 else _node_problem(tree, 1))
    except SyntaxError as err:
        return None, (f"语法错误：{err.msg}（第 {err.lineno} 行）", err.lineno or 1)
    except (RecursionError, MemoryError):
        return None, ("表达式嵌套过深", 1)
    return (None, found) if found else (tree, None)


def check_expression(text: str) -> str | None:
    """Why ``text`` is not an allowed expression (Chinese), or None if it is."""
    load_providers()
    found = _compile(text, "eval")[1]
    return found[0] if found else None


def check_script(text: str) -> str | None:
    """Why ``text`` is not an allowed script (Chinese), or None if it is."""
    load_providers()
    found = _compile(text, "exec")[1]
    return found[0] if found else None


def _compiled(text: str, mode: str) -> ast.AST:
    load_providers()
    tree, found = _compile(text, mode)
    if found:
        raise ExpressionRejected(found[0], line=found[1])
    assert tree is not None
    return tree


def _expression_body(text: str) -> ast.expr:
    """The checked expression's node; raises ``ExpressionRejected`` if it is not allowed."""
    tree = _compiled(text, "eval")
    assert isinstance(tree, ast.Expression)
    return tree.body


def _script_statements(text: str) -> list[ast.stmt]:
    """The checked script's statements; raises ``ExpressionRejected`` if it is not allowed."""
    tree = _compiled(text, "exec")
    assert isinstance(tree, ast.Module)
    return tree.body


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
    load_providers()
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
    return datetime.now(CHINA).date().isoformat()


@register_function("now_iso")
def now_iso() -> str:
    """Now in China, ISO 8601 with offset, to the second."""
    return datetime.now(CHINA).isoformat(timespec="seconds")


@register_function("working_days_after", needs_context=True)
def working_days_after(context: Any, iso_date: str, n: int) -> str:
    """The date ``n`` working days after ``iso_date`` (statutory time limits count working days), on the
    calendar with the operators' entered holiday plans when the run has a database session."""
    # Imported lazily: the calendar module (holidays, override table) is owned and loaded separately.
    from app.engine.workdays import SHIPPED, calendar_for

    session = getattr(context, "session", None)
    calendar = calendar_for(session) if session is not None else SHIPPED

    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 3660:
        raise ExpressionError(f"working_days_after 的天数必须是 0 到 3660 之间的整数，实际为 {n!r}")
    try:
        start = date.fromisoformat(str(iso_date)[:10])
    except ValueError:
        raise ExpressionError(f"working_days_after 的日期格式无效：{iso_date!r}") from None
    return calendar.add_working_days(start, n).isoformat()


# ------------------------------------------------------------------------------------------------ runtime
def _bounded(value: Any) -> Any:
    """Refuse oversized results. Containers are measured *expanded* (strings by length, nested items
    counted), since ``x1 = [x0, x0]`` repeated doubles the size ``str()`` or the serializer would build."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _MAX_INT:
        raise ExpressionRejected(f"数值超出允许范围（绝对值须小于 10^{MAX_INT_DIGITS}）")
    budget, stack = MAX_LENGTH, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, complex) or (isinstance(item, float) and not math.isfinite(item)):
            raise ExpressionRejected("结果不是普通数值（复数、无穷大或非数），无法保存到案件数据")
        budget -= len(item) if isinstance(item, (str, list, tuple, dict, set, frozenset)) else 1
        if budget < 0:
            raise ExpressionRejected(f"结果过长（上限 {MAX_LENGTH} 个字符或元素）")
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
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
        kwargs: dict[str, Any] = {}
        for kw in node.keywords:
            if kw.arg is None:  # `**mapping`: refused by the static check already
                raise ExpressionRejected("不允许使用 ** 展开", line=node.lineno)
            kwargs[kw.arg] = self._eval(kw.value)
        return _bounded(fn(*args, **kwargs))


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
    # typeshed types every layer of a ChainMap as a MutableMapping; this one is only read
    names = ChainMap(data, dict(extra or {}))  # type: ignore[arg-type]
    return _evaluate_node(_expression_body(text), names, context)


def run_script(text: str, data: dict[str, Any], *, extra: Mapping[str, Any] | None = None,
               context: object | None = None) -> dict[str, Any]:
    """Run ``name = expr`` lines in order; ``data`` is updated only if all succeed (no half-done scripts)."""
    written: dict[str, Any] = {}
    names = ChainMap(written, data, dict(extra or {}))
    for stmt in _script_statements(text):
        if not isinstance(stmt, (ast.Assign, ast.AugAssign)):  # refused by the static check already
            raise ExpressionRejected("脚本只允许赋值语句（变量 = 表达式）", line=stmt.lineno)
        value = _evaluate_node(stmt.value, names, context)
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target
        if not isinstance(target, ast.Name):  # refused by the static check already
            raise ExpressionRejected("赋值目标只能是一个变量名", line=stmt.lineno)
        if isinstance(stmt, ast.AugAssign):  # name += expr  ≡  name = name + (value of expr)
            node = ast.BinOp(ast.Name(target.id, ast.Load()), stmt.op, ast.Constant(value))
            value = _evaluate_node(ast.copy_location(node, stmt), names, context)
        written[target.id] = value
    data.update(written)
    return written

