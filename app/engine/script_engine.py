"""The SpiffWorkflow script engine our workflows run with: every expression, script and service call a
diagram makes goes through the safe language (``app.engine.expressions``) or the connector registry."""
from __future__ import annotations

import ast
import json
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from app.engine.connectors import call_connector
from app.engine.expressions import (
    ExpressionError,
    ExpressionRejected,
    check_expression,
    evaluate_expression,
    run_script,
)
from app.engine.providers import load_providers
from app.errors import DomainError


def domain_error_of(exc: BaseException | None) -> DomainError | None:
    """The ``DomainError`` behind an engine failure, so the caller can roll back and show its message."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, DomainError):
            return exc
        carried = getattr(exc, "domain_error", None)  # set by _task_error on Spiff's wrapper
        if isinstance(carried, DomainError):
            return carried
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
        load_providers()  # the connectors and functions a diagram may use, whoever builds the engine
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
    wrapped.reason = message
    wrapped.domain_error = domain_error_of(err)
    return wrapped
