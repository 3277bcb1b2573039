"""Workflow instances serialized WITHOUT their ~7 KB spec: the instance stores only a reference to its
process version and the spec comes from the per-version cache (halves load time; see TOOLING_NOTES)."""
from __future__ import annotations

from copy import copy
from typing import Any

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow


class SpecReferenceWorkflowConverter(BpmnWorkflowConverter):
    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["spec_ref"] = workflow.spec_ref
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        from app.engine.specs import lookup

        spec_ref = dct.pop("spec_ref")
        spec, subprocess_specs = lookup(spec_ref)
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.spec_ref = spec_ref
        workflow.tasks = self.mapping_from_dict(dct["tasks"], _uuid, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(_uuid(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _uuid(value: str) -> Any:
    from uuid import UUID

    return UUID(value)


def spec_reference_config(base: dict[Any, Any]) -> dict[Any, Any]:
    config = copy(base)
    config[BpmnWorkflow] = SpecReferenceWorkflowConverter
    return config
