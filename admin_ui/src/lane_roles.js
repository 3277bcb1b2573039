// Lanes are roles, picked by Chinese name in the designer: the label on the canvas (lane_labels.js), the
// role select of the panel's 登记属性 group, and no free-text code anywhere (the stored value stays the code).
import { jsx } from '@bpmn-io/properties-panel/preact/jsx-runtime';
import { SelectEntry } from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { is } from 'bpmn-js/lib/util/ModelUtil';
import { PRIORITY, laneNamesModule, roleLabels } from './lane_labels';

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

// The panel's header names the selected element; for a lane that is its code, so the header's text is set
// to the role's name. The text node is changed in place: the panel's own later updates still land in it.
function LaneHeaderLabel(selection, bdcLaneNames, panelConfig) {
  const parent = typeof panelConfig.parent === 'string' ? document.querySelector(panelConfig.parent) : panelConfig.parent;
  if (!parent || typeof MutationObserver === 'undefined') return;
  const relabel = () => {
    const [element] = selection.get();
    const label = parent.querySelector('.bio-properties-panel-header-label');
    const text = label && label.firstChild;
    if (!element || !text || text.nodeType !== Node.TEXT_NODE || !is(element, 'bpmn:Lane')) return;
    const name = bdcLaneNames[(element.businessObject.name || '').trim()];
    if (name && text.data !== name) text.data = name;
  };
  new MutationObserver(relabel).observe(parent, { childList: true, subtree: true, characterData: true });
}
LaneHeaderLabel.$inject = ['selection', 'bdcLaneNames', 'config.propertiesPanel'];

// The designer's module: names come from the palette vocabulary's roles (config.vocabulary.roles).
export function designerLaneModule(roles) {
  return { ...laneNamesModule(roleLabels(roles)),
           __init__: ['bdcLaneLabelRenderer', 'bdcLaneEditingGuard', 'bdcLaneHeaderLabel'],
           bdcLaneEditingGuard: ['type', LaneDirectEditingGuard], bdcLaneHeaderLabel: ['type', LaneHeaderLabel] };
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
