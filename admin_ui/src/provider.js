// "登记属性" group of the properties panel: our spiffworkflow extensions (processes/README.md) edited
// with choices from the server's vocabulary (roles, forms, stages, connectors).
import { jsx } from '@bpmn-io/properties-panel/preact/jsx-runtime';
import {
  SelectEntry, TextFieldEntry, TextAreaEntry,
  isSelectEntryEdited, isTextFieldEntryEdited, isTextAreaEntryEdited
} from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { is } from 'bpmn-js/lib/util/ModelUtil';
import { ConditionBuilderEntry } from './condition_entry';
import { LaneRole, withoutLaneNameField } from './lane_roles';

const TIMER_KINDS = [
  { value: 'timeDuration', label: '持续时间（如 "P3D"）' },
  { value: 'timeDate', label: '日期时间（如 "2026-01-05T09:00:00+08:00"）' },
  { value: 'timeCycle', label: '循环（如 "R3/PT1H"）' }
];

function extensionOf(bo, type) {
  const values = (bo.extensionElements && bo.extensionElements.get('values')) || [];
  return values.find((v) => is(v, type));
}

function ensureExtension(element, type, attrs, modeling, moddle) {
  const bo = element.businessObject;
  let ext = bo.extensionElements;
  if (!ext) {
    ext = moddle.create('bpmn:ExtensionElements', { values: [] });
    ext.$parent = bo;
    modeling.updateProperties(element, { extensionElements: ext });
  }
  let found = ext.get('values').find((v) => is(v, type));
  if (!found) {
    found = moddle.create(type, attrs || {});
    found.$parent = ext;
    modeling.updateModdleProperties(element, ext, { values: [...ext.get('values'), found] });
  }
  return found;
}

export function getProperty(bo, name) {
  const props = extensionOf(bo, 'spiffworkflow:Properties');
  const prop = props && props.get('properties').find((p) => p.name === name);
  return prop ? prop.value || '' : '';
}

function setProperty(element, name, value, modeling, moddle) {
  const props = ensureExtension(element, 'spiffworkflow:Properties', { properties: [] }, modeling, moddle);
  const list = props.get('properties');
  const prop = list.find((p) => p.name === name);
  if (!value) {
    if (prop) modeling.updateModdleProperties(element, props, { properties: list.filter((p) => p !== prop) });
    return;
  }
  if (prop) {
    modeling.updateModdleProperties(element, prop, { value });
  } else {
    const created = moddle.create('spiffworkflow:Property', { name, value });
    created.$parent = props;
    modeling.updateModdleProperties(element, props, { properties: [...list, created] });
  }
}

function options(items, empty) {
  return [{ value: '', label: empty }, ...items];
}

function services() {
  return { modeling: useService('modeling'), moddle: useService('moddle'), vocab: useService('bdcVocabulary'),
           debounce: useService('debounceInput') };
}

function PropertySelect({ element, id, name, label, items, empty }) {
  const { modeling, moddle } = services();
  return jsx(SelectEntry, {
    element, id, label,
    getValue: () => getProperty(element.businessObject, name),
    setValue: (value) => setProperty(element, name, value, modeling, moddle),
    getOptions: () => options(items, empty)
  });
}

function FormKey({ element, id }) {
  const { vocab } = services();
  return PropertySelect({ element, id, name: 'formKey', label: '办理表单（formKey）', empty: '（请选择表单）',
    items: vocab.forms.map((f) => ({ value: f.key, label: `${f.title}（${f.key}）` })) });
}

function Stage({ element, id }) {
  const { vocab } = services();
  return PropertySelect({ element, id, name: 'stage', label: '阶段', empty: '（请选择阶段）',
    items: vocab.stages.map((s) => ({ value: s, label: s })) });
}

function DueDays({ element, id }) {
  const { modeling, moddle, debounce } = services();
  return jsx(TextFieldEntry, {
    element, id, label: '办理时限（工作日）', debounce,
    getValue: () => getProperty(element.businessObject, 'dueDays'),
    setValue: (value) => setProperty(element, 'dueDays', (value || '').trim(), modeling, moddle),
    validate: (value) => (value && !/^[1-9][0-9]{0,2}$/.test(value.trim()) ? '应为正整数（工作日）' : null)
  });
}

function operatorOf(element) {
  return extensionOf(element.businessObject, 'spiffworkflow:ServiceTaskOperator');
}

function ensureOperator(element, modeling, moddle) {
  const op = ensureExtension(element, 'spiffworkflow:ServiceTaskOperator', {}, modeling, moddle);
  if (!op.parameterList) {
    const list = moddle.create('spiffworkflow:Parameters', { parameters: [] });
    list.$parent = op;
    modeling.updateModdleProperties(element, op, { parameterList: list });
  }
  return op;
}

function Connector({ element, id }) {
  const { modeling, moddle, vocab } = services();
  return jsx(SelectEntry, {
    element, id, label: '连接器（服务操作）',
    getValue: () => (operatorOf(element) && operatorOf(element).id) || '',
    setValue: (value) => modeling.updateModdleProperties(element, ensureOperator(element, modeling, moddle), { id: value }),
    getOptions: () => options(vocab.connectors.map((c) => ({ value: c, label: c })), '（请选择连接器）')
  });
}

function ResultVariable({ element, id }) {
  const { modeling, moddle, debounce } = services();
  return jsx(TextFieldEntry, {
    element, id, label: '结果变量', debounce,
    getValue: () => (operatorOf(element) && operatorOf(element).resultVariable) || '',
    setValue: (value) => modeling.updateModdleProperties(element, ensureOperator(element, modeling, moddle),
      { resultVariable: (value || '').trim() || undefined })
  });
}

function Parameters({ element, id }) {
  const { modeling, moddle, debounce } = services();
  const current = () => {
    const op = operatorOf(element);
    const params = (op && op.parameterList && op.parameterList.get('parameters')) || [];
    return params.map((p) => `${p.id} = ${p.value || ''}`).join('\n');
  };
  return jsx(TextAreaEntry, {
    element, id, label: '参数（每行一个：参数名 = 表达式）', debounce, rows: 3,
    description: '表达式使用安全表达式语言，字符串需加引号。',
    getValue: current,
    setValue: (text) => {
      const op = ensureOperator(element, modeling, moddle);
      const params = (text || '').split('\n').map((line) => line.trim()).filter(Boolean).map((line) => {
        const at = line.indexOf('=');
        const param = moddle.create('spiffworkflow:Parameter', {
          id: (at < 0 ? line : line.slice(0, at)).trim(), type: 'any', value: at < 0 ? '' : line.slice(at + 1).trim()
        });
        param.$parent = op.parameterList;
        return param;
      });
      modeling.updateModdleProperties(element, op.parameterList, { parameters: params });
    }
  });
}

function Condition({ element, id }) {
  const { modeling, moddle, debounce } = services();
  return jsx(TextFieldEntry, {
    element, id, label: '条件表达式（高级）', debounce,
    description: '上方构建器写入此处；也可直接编辑，例如 decision == "approve"（布尔值写 True / False）。',
    getValue: () => (element.businessObject.conditionExpression && element.businessObject.conditionExpression.body) || '',
    setValue: (value) => {
      const body = (value || '').trim();
      const expr = body ? moddle.create('bpmn:FormalExpression', { body }) : undefined;
      modeling.updateProperties(element, { conditionExpression: expr });
    }
  });
}

function timerOf(element) {
  return (element.businessObject.eventDefinitions || []).find((d) => is(d, 'bpmn:TimerEventDefinition'));
}

function timerKind(timer) {
  return TIMER_KINDS.map((k) => k.value).find((k) => timer[k]) || '';
}

function TimerKind({ element, id }) {
  const { modeling, moddle } = services();
  const timer = timerOf(element);
  return jsx(SelectEntry, {
    element, id, label: '计时器类型',
    getValue: () => timerKind(timer),
    setValue: (kind) => {
      const old = timerKind(timer);
      const body = old ? timer[old].body : '"P1D"';
      const props = { timeDuration: undefined, timeDate: undefined, timeCycle: undefined };
      if (kind) props[kind] = moddle.create('bpmn:FormalExpression', { body });
      modeling.updateModdleProperties(element, timer, props);
    },
    getOptions: () => options(TIMER_KINDS, '（请选择）')
  });
}

function TimerValue({ element, id }) {
  const { modeling, moddle, debounce } = services();
  const timer = timerOf(element);
  return jsx(TextFieldEntry, {
    element, id, label: '计时器表达式', debounce,
    description: '字符串需加引号，例如 "P3D"（3 天）、"PT2H"（2 小时）。',
    getValue: () => { const k = timerKind(timer); return k ? timer[k].body || '' : ''; },
    setValue: (value) => {
      const kind = timerKind(timer) || 'timeDuration';
      modeling.updateModdleProperties(element, timer, { [kind]: moddle.create('bpmn:FormalExpression', { body: value || '' }) });
    }
  });
}

function entriesFor(element) {
  const e = (id, component, isEdited) => ({ id, element, component, isEdited });
  if (is(element, 'bpmn:Lane')) return [e('bdc-lane-role', LaneRole, isSelectEntryEdited)];
  if (is(element, 'bpmn:UserTask')) {
    return [e('bdc-formKey', FormKey, isSelectEntryEdited), e('bdc-stage', Stage, isSelectEntryEdited),
            e('bdc-dueDays', DueDays, isTextFieldEntryEdited)];
  }
  if (is(element, 'bpmn:ServiceTask')) {
    return [e('bdc-connector', Connector, isSelectEntryEdited), e('bdc-result', ResultVariable, isTextFieldEntryEdited),
            e('bdc-params', Parameters, isTextAreaEntryEdited)];
  }
  if (is(element, 'bpmn:SequenceFlow')) {
    const source = element.businessObject.sourceRef;
    if (source && (is(source, 'bpmn:ExclusiveGateway') || is(source, 'bpmn:InclusiveGateway'))) {
      return [e('bdc-condition-builder', ConditionBuilderEntry), e('bdc-condition', Condition, isTextFieldEntryEdited)];
    }
  }
  if (timerOf(element)) return [e('bdc-timer-kind', TimerKind, isSelectEntryEdited), e('bdc-timer', TimerValue, isTextFieldEntryEdited)];
  return [];
}

function BdcPropertiesProvider(propertiesPanel) {
  this.getGroups = (element) => (groups) => {
    const entries = entriesFor(element);
    if (entries.length) groups.splice(1, 0, { id: 'bdc-registration', label: '登记属性', entries });
    return withoutLaneNameField(element, groups);
  };
  propertiesPanel.registerProvider(400, this);
}
BdcPropertiesProvider.$inject = ['propertiesPanel'];

export default {
  __init__: ['bdcPropertiesProvider'],
  bdcPropertiesProvider: ['type', BdcPropertiesProvider]
};
