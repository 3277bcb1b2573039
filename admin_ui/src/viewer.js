// The read-only process viewer for the workbench case page and the portal's guide: bpmn-js's
// NavigatedViewer (pan/zoom, no modelling) over the BPMN the page names, with the current steps and the
// completed ones marked and lanes labelled with their roles' Chinese names (data-lane-names). It replaces
// the server-rendered SVG inside each .bpmn-viewer block; if anything fails, that SVG simply stays (the
// pages work without JavaScript).
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import './viewer.css';
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import { laneNamesModule } from './lane_labels';

function ids(block, name) {
  return (block.getAttribute(name) || '').split(/\s+/).filter(Boolean);
}

// {role code: Chinese name} of the diagram's lanes, from the page (lanes are named by role code).
function laneNames(block) {
  try {
    return JSON.parse(block.getAttribute('data-lane-names') || '{}');
  } catch (err) {
    return {};
  }
}

async function show(block) {
  const resp = await fetch(block.getAttribute('data-xml-url'), { credentials: 'same-origin' });
  if (!resp.ok) { return; }
  const xml = await resp.text();
  const host = document.createElement('div');
  host.className = 'bpmn-canvas';
  block.insertBefore(host, block.firstChild);
  const viewer = new NavigatedViewer({ container: host, additionalModules: [laneNamesModule(laneNames(block))] });
  try {
    await viewer.importXML(xml);
  } catch (err) {
    host.remove();
    return;
  }
  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  for (const [attr, marker] of [['data-done', 'bdc-done'], ['data-current', 'bdc-current']]) {
    ids(block, attr).forEach((id) => { if (registry.get(id)) { canvas.addMarker(id, marker); } });
  }
  block.classList.add('bpmn-viewer-ready');  // hides the fallback first, so the canvas has its final size
  canvas.resized();
  canvas.zoom('fit-viewport', 'auto');
  block.bdcViewer = viewer;
}

function start() {
  document.querySelectorAll('.bpmn-viewer[data-xml-url]').forEach((block) => { show(block); });
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', start);
} else {
  start();
}
