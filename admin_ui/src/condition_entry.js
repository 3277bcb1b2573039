// The condition builder as an entry of the properties panel for a flow leaving a gateway. The fields offered
// are the process data at that point: the application form's fields that every case carries (service
// `bdcConditions.application`) and the fields of the forms of the diagram's user tasks (their decisions).
import { jsx } from '@bpmn-io/properties-panel/preact/jsx-runtime';
import { useEffect, useRef } from '@bpmn-io/properties-panel/preact/hooks';
import { useService } from 'bpmn-js-properties-panel';
import { is } from 'bpmn-js/lib/util/ModelUtil';
import { mountConditionBuilder } from './condition_builder';

function formKeyOf(bo) {
  const values = (bo.extensionElements && bo.extensionElements.get('values')) || [];
  const props = values.find((v) => is(v, 'spiffworkflow:Properties'));
  const prop = props && props.get('properties').find((p) => p.name === 'formKey');
  return prop ? prop.value || '' : '';
}

/** Form keys of the user tasks nearest before ``flow`` (walking back from its source over flows, gateways and
 *  events): their decision is the one the condition tests, so their labels win (审核's 不予登记, not 受理's). */
function upstreamFormKeys(flow) {
  const keys = [], seen = new Set();
  let frontier = [flow.businessObject.sourceRef];
  while (frontier.length) {
    const next = [];
    frontier.filter((bo) => bo && !seen.has(bo.id)).forEach((bo) => {
      seen.add(bo.id);
      if (is(bo, 'bpmn:UserTask')) keys.push(formKeyOf(bo));
      else if (!is(bo, 'bpmn:Activity')) next.push(...(bo.incoming || []).map((f) => f.sourceRef));
    });
    frontier = next;
  }
  return keys;
}

/** Fields a flow condition may test: application fields, then the task forms' fields (options merged, the
 *  forms of the tasks just before the flow first). */
export function flowFields(vocab, registry, flow) {
  const fields = (vocab.application || []).map((f) => ({ ...f }));
  const seen = Object.fromEntries(fields.map((f) => [f.name, f]));
  const all = registry.filter((e) => is(e, 'bpmn:UserTask')).map((e) => formKeyOf(e.businessObject)).sort();
  const keys = [...new Set([...(flow ? upstreamFormKeys(flow) : []), ...all])];
  keys.filter(Boolean).forEach((key) => (vocab.forms[key] || []).forEach((f) => {
    const known = seen[f.name];
    if (!known) {
      seen[f.name] = { ...f, options: f.options ? [...f.options] : f.options };
      fields.push(seen[f.name]);
    } else if (known.options && f.options) {
      f.options.forEach((o) => { if (!known.options.some((k) => k.value === o.value)) known.options.push(o); });
    }
  }));
  return fields;
}

function conditionText(element) {
  const expr = element.businessObject.conditionExpression;
  return (expr && expr.body) || '';
}

export function ConditionBuilderEntry({ element, id }) {
  const modeling = useService('modeling');
  const moddle = useService('moddle');
  const registry = useService('elementRegistry');
  const vocab = useService('bdcConditions');
  const host = useRef(null);
  const widget = useRef(null);
  const text = conditionText(element);

  useEffect(() => {
    widget.current = mountConditionBuilder(host.current, {
      fields: flowFields(vocab, registry, element),
      text,
      onChange: (body) => modeling.updateProperties(element, {
        conditionExpression: body ? moddle.create('bpmn:FormalExpression', { body }) : undefined })
    });
  }, [element]);
  useEffect(() => { if (widget.current) widget.current.update(text); }, [text]);

  return jsx('div', {
    class: 'bio-properties-panel-entry bdc-condition-builder', 'data-entry-id': id,
    children: [jsx('label', { class: 'bio-properties-panel-label', children: '条件（字段 — 运算 — 值）' }),
      jsx('div', { ref: host })]
  });
}
