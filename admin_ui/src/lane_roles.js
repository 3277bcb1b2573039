// Lanes are roles: a lane's `name` stays the role code the engine routes tasks by
// (app/catalog/bpmn_conventions.py `_lanes`), but people read and choose the role's Chinese name.
// Used by the designer (label on the canvas, the role select, no typing of codes) and by the read-only
// viewer (label only).
import { jsx } from '@bpmn-io/properties-panel/preact/jsx-runtime';
import { SelectEntry } from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import BaseRenderer from 'diagram-js/lib/draw/BaseRenderer';
import { is } from 'bpmn-js/lib/util/ModelUtil';

const PRIORITY = 1500;

// `roles`: [{code, name}] → {code: label}; a name two roles share keeps its code so they stay apart.
export function roleLabels(roles) {
  const count = {};
  roles.forEach((r) => { count[r.name] = (count[r.name] || 0) + 1; });
  return Object.fromEntries(roles.map((r) => [r.code, count[r.name] > 1 ? `${r.name}（${r.code}）` : r.name]));
}

// Draws a lane with its role's Chinese name: the stock renderer draws a stand-in whose business object
// answers the label, so shape, colours and text layout stay bpmn-js's own.
function LaneLabelRenderer(eventBus, bpmnRenderer, bdcLaneNames) {
  BaseRenderer.call(this, eventBus, PRIORITY);
  const label = (element) => bdcLaneNames[(element.businessObject.name || '').trim()];
  this.canRender = (element) => is(element, 'bpmn:Lane') && !element.labelTarget && Boolean(label(element));
  this.drawShape = (parentGfx, element, attrs) => {
    const shown = Object.create(element.businessObject, { name: { value: label(element) } });
    return bpmnRenderer.drawShape(parentGfx, Object.create(element, { businessObject: { value: shown } }), attrs);
  };
  this.getShapePath = (element) => bpmnRenderer.getShapePath(element);
}
LaneLabelRenderer.prototype = Object.create(BaseRenderer.prototype);
LaneLabelRenderer.$inject = ['eventBus', 'bpmnRenderer', 'bdcLaneNames'];

// The viewer's module: `names` is {role code: Chinese name} from the page.
export function laneNamesModule(names) {
  return { __init__: ['bdcLaneLabelRenderer'], bdcLaneLabelRenderer: ['type', LaneLabelRenderer],
           bdcLaneNames: ['value', names || {}] };
}

// In the designer a lane's role is picked, never typed: a double click on a lane selects it (the role
// select is in the panel) instead of opening the text editor on its code.
function LaneDirectEditingGuard(eventBus, selection) {
  eventBus.on('element.dblclick', PRIORITY, (event) => {
    if (!is(event.element, 'bpmn:Lane')) return undefined;
    selection.select(event.element);
    return false;
  });
}
LaneDirectEditingGuard.$inject = ['eventBus', 'selection'];

// The designer's module: names come from the palette vocabulary's roles (config.vocabulary.roles).
export function designerLaneModule(roles) {
  return { ...laneNamesModule(roleLabels(roles)), __init__: ['bdcLaneLabelRenderer', 'bdcLaneEditingGuard'],
           bdcLaneEditingGuard: ['type', LaneDirectEditingGuard] };
}

// The "角色" select of a lane in the panel's 登记属性 group: Chinese names, the code is what is stored.
export function LaneRole({ element, id }) {
  const modeling = useService('modeling');
  const names = useService('bdcLaneNames');
  const current = (element.businessObject.name || '').trim();
  return jsx(SelectEntry, {
    element, id, label: '角色（待办归属）',
    description: '该泳道中的用户任务进入所选角色的待办。',
    getValue: () => current,
    setValue: (value) => modeling.updateProperties(element, { name: value || undefined }),
    getOptions: () => {
      const known = Object.entries(names).map(([code, name]) => ({ value: code, label: name }));
      const unknown = current && !names[current] ? [{ value: current, label: `未知角色：${current}（请改选）` }] : [];
      return [{ value: '', label: '（请选择角色）' }, ...unknown, ...known];
    }
  });
}

// The general group's free-text "名称" of a lane would be a hand-typed code: lanes get the select only.
export function withoutLaneNameField(element, groups) {
  if (!is(element, 'bpmn:Lane')) return groups;
  groups.forEach((group) => {
    if (group.id === 'general') group.entries = group.entries.filter((entry) => entry.id !== 'name');
  });
  return groups;
}
