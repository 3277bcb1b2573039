// A lane's `name` is the role code the engine routes tasks by (app/catalog/bpmn_conventions.py `_lanes`);
// people read the role's Chinese name. This renderer draws lanes with that name, in the designer and in
// the read-only viewer (kept free of the properties panel so the viewer bundle stays small).
import BaseRenderer from 'diagram-js/lib/draw/BaseRenderer';
import { is } from 'bpmn-js/lib/util/ModelUtil';

export const PRIORITY = 1500;

// `roles`: [{code, name}] → {code: label}; a name two roles share keeps its code so they stay apart.
export function roleLabels(roles) {
  const count = {};
  roles.forEach((r) => { count[r.name] = (count[r.name] || 0) + 1; });
  return Object.fromEntries(roles.map((r) => [r.code, count[r.name] > 1 ? `${r.name}（${r.code}）` : r.name]));
}

// Draws a lane with its role's Chinese name: the stock renderer draws a stand-in whose business object
// answers the label, so shape, colours and text layout stay bpmn-js's own.
export function LaneLabelRenderer(eventBus, bpmnRenderer, bdcLaneNames) {
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
