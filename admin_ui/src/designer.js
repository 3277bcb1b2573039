// The process designer page: bpmn-js modeler + properties panel with our "登记属性" group, and the
// toolbar actions (save draft, validate, dry run, publish, compare) against /admin/api.
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css';
import '@bpmn-io/properties-panel/dist/assets/properties-panel.css';
import BpmnModeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';
import spiffworkflow from './spiffworkflow.json';
import { TranslateModule } from './translate';
import ProviderModule from './provider';
import { mountDryRunForm } from './dry_run_form';
import { designerLaneModule } from './lane_roles';
import { showImportWarnings } from './import_warnings';

const $ = (sel) => document.querySelector(sel);

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

async function call(url, body) {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const resp = await fetch(url, body === undefined ? { headers: { Accept: 'application/json' } } : {
    method: 'POST', body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': csrf }
  });
  let data = {};
  try { data = await resp.json(); } catch (e) { data = { detail: '服务器返回了无法识别的内容' }; }
  return { ok: resp.ok, status: resp.status, data };
}

function status(text, kind) {
  const el = $('#designer-status');
  el.textContent = text;
  el.className = `flash ${kind || 'info'}`;
}

export function start(config) {
  const modeler = new BpmnModeler({
    container: '#canvas',
    propertiesPanel: { parent: '#properties' },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, ProviderModule, TranslateModule,
      designerLaneModule(config.vocabulary.roles),
      { bdcVocabulary: ['value', config.vocabulary], bdcConditions: ['value', config.conditions] }],
    moddleExtensions: { spiffworkflow }
  });
  const canvas = modeler.get('canvas');
  const overlays = modeler.get('overlays');
  const registry = modeler.get('elementRegistry');
  let marked = [];
  let dirty = false;

  function clearMarks() {
    marked.forEach(([id, cls]) => registry.get(id) && canvas.removeMarker(id, cls));
    marked = [];
    overlays.remove({ type: 'bdc-problem' });
  }

  function mark(id, cls) {
    if (registry.get(id)) { canvas.addMarker(id, cls); marked.push([id, cls]); return true; }
    return false;
  }

  function focus(id) {
    const el = registry.get(id);
    if (!el) return;
    modeler.get('selection').select(el);
    canvas.scrollToElement(el);
  }

  function showProblems(errors) {
    clearMarks();
    const list = $('#problems');
    list.innerHTML = '';
    errors.forEach((err) => {
      const warning = err.severity === 'warning';  // shown, but does not block publishing
      const onDiagram = err.element && mark(err.element, warning ? 'bdc-warning' : 'bdc-error');
      if (onDiagram) {
        overlays.add(err.element, 'bdc-problem', {
          position: { top: -12, left: -12 },
          html: `<div class="${warning ? 'bdc-warning-badge' : 'bdc-error-badge'}" data-element="${escapeHtml(err.element)}" title="${escapeHtml(err.message)}">!</div>`
        });
      }
      const li = document.createElement('li');
      li.dataset.element = err.element || '';
      if (warning) li.className = 'bdc-warning-item';
      const label = err.element ? (err.name ? `${err.name}（${err.element}）` : err.element) : '';
      const prefix = warning ? '提示：' : '';
      li.innerHTML = onDiagram ? `${prefix}<button type="button" class="link">${escapeHtml(label)}</button>：${escapeHtml(err.message)}`
        : `${prefix}${label ? escapeHtml(label) + '：' : ''}${escapeHtml(err.message)}`;
      if (onDiagram) li.querySelector('button').addEventListener('click', () => focus(err.element));
      list.appendChild(li);
    });
  }

  async function xml() {
    return (await modeler.saveXML({ format: true })).xml;
  }

  function failed(res) {
    if (res.data.errors && Array.isArray(res.data.errors)) {
      showProblems([...res.data.errors, ...(res.data.warnings || [])]);
      status(`校验未通过：${res.data.errors.length} 个问题，已在图中标出`, 'error');
    } else {
      const detail = res.data.errors ? Object.values(res.data.errors).flat().join('；') : '';
      status(`${res.data.detail || '操作失败'}${detail ? '：' + detail : ''}`, 'error');
    }
  }

  async function validate() {
    const res = await call(config.urls.validate_diagram, { xml: await xml() });
    if (!res.ok) return failed(res);
    const warnings = res.data.warnings || [];
    showProblems([...res.data.errors, ...warnings]);
    if (res.data.ok && warnings.length) status(`校验通过：流程图可以发布（${warnings.length} 条提示，已在图中标出）`, 'success');
    else if (res.data.ok) status('校验通过：流程图可以发布', 'success');
    else status(`校验未通过：${res.data.errors.length} 个问题，已在图中标出`, 'error');
  }

  async function saveDraft() {
    const res = await call(config.urls.save_draft, { xml: await xml() });
    if (!res.ok) return failed(res);
    dirty = false;
    status('草稿已保存', 'success');
  }

  function parseField(sel, label) {
    const text = $(sel).value.trim();
    const error = $(`${sel}-error`);
    error.textContent = '';
    if (!text) return {};
    try {
      const value = JSON.parse(text);
      if (value && typeof value === 'object' && !Array.isArray(value)) return value;
    } catch (e) { /* reported below */ }
    error.textContent = `${label}应为 JSON 对象，例如 {"task_accept": {"decision": "approve"}}`;
    throw new Error('bad input');
  }

  async function dryRun() {
    let body;
    try {
      body = { xml: await xml(), data: trialForm.data(),
               decisions: { ...trialForm.decisions(), ...parseField('#trial-decisions', '模拟办理') },
               answers: parseField('#trial-answers', '模拟接口应答'),
               timeouts: $('#trial-timeouts').value.split(/[\s,，、]+/).filter(Boolean) };
    } catch (e) { return status('试运行输入有误，请按提示修改', 'error'); }
    const res = await call(config.urls.dry_run, body);
    if (!res.ok) return failed(res);
    showProblems([]);
    res.data.visited.forEach((id) => mark(id, 'bdc-visited'));
    res.data.flows.forEach((id) => mark(id, 'bdc-visited'));
    res.data.steps.filter((s) => s.data && s.data['模拟超时']).forEach((s) => mark(s.element, 'bdc-timeout'));
    const steps = res.data.steps.map((s) => `<li data-element="${escapeHtml(s.element)}">${escapeHtml(s.name || s.element)}`
      + `${Object.keys(s.data).length ? ' <code>' + escapeHtml(JSON.stringify(s.data)) + '</code>' : ''}</li>`);
    $('#trial-result').innerHTML = `<ol>${steps.join('')}</ol>`;
    if (res.data.finished) status(`试运行完成：到达结束事件 ${res.data.end_event}，经过的元素已高亮`, 'success');
    else status(`试运行停止：${res.data.stopped}`, 'warning');
  }

  async function publish() {
    const res = await call(config.urls.publish_diagram, { xml: await xml() });
    if (!res.ok) return failed(res);
    showProblems([]);
    dirty = false;
    status(`已发布：${res.data.message}`, 'success');
    renderVersions(res.data.versions);
  }

  function renderVersions(versions) {
    const rows = versions.map((v) => `<tr data-version="${v.version_no}"><td>v${v.version_no}${v.current ? ' <span class="badge ok">当前</span>' : ''}</td>`
      + `<td>${escapeHtml(v.created_at.slice(0, 19).replace('T', ' '))}</td><td class="running">${v.running_cases}</td>`
      + `<td><a href="?version=${v.id}">打开</a></td></tr>`);
    $('#versions tbody').innerHTML = rows.join('');
    ['#cmp-a', '#cmp-b'].forEach((sel, i) => {
      $(sel).innerHTML = (i === 1 ? '<option value="draft">当前编辑内容（草稿）</option>' : '')
        + versions.map((v, j) => `<option value="${v.id}" ${j === (i === 0 ? Math.min(1, versions.length - 1) : 0) ? 'selected' : ''}>v${v.version_no}</option>`).join('');
    });
  }

  async function compare() {
    const draft = $('#cmp-b').value === 'draft';
    const res = draft
      ? await call(config.urls.compare_draft, { xml: await xml(), version_id: $('#cmp-a').value })
      : await call(`${config.urls.compare_versions}?a=${encodeURIComponent($('#cmp-a').value)}&b=${encodeURIComponent($('#cmp-b').value)}`);
    if (!res.ok) return failed(res);
    clearMarks();
    if (draft) {
      res.data.added.forEach((i) => mark(i.id, 'bdc-added'));
      res.data.changed.forEach((i) => mark(i.id, 'bdc-changed'));
    }
    const part = (title, items, cls) => `<h4>${title}（${items.length}）</h4><ul class="${cls}">${items.map((i) =>
      `<li>${escapeHtml(i.type_label)} ${escapeHtml(i.name || '')} <code>${escapeHtml(i.id)}</code>${i.changes ? '：' + escapeHtml(i.changes.join('、')) : ''}</li>`).join('')}</ul>`;
    const target = draft ? '当前编辑内容' : `v${res.data.b}`;
    $('#compare-result').innerHTML = `<p>v${res.data.a} → ${target}</p>${part('新增', res.data.added, 'added')}`
      + `${part('删除', res.data.removed, 'removed')}${part('修改', res.data.changed, 'changed')}`;
  }

  const wire = (sel, fn) => { const el = $(sel); if (el) el.addEventListener('click', () => fn().catch((e) => status(`操作失败：${e.message}`, 'error'))); };
  wire('#btn-save', saveDraft);
  wire('#btn-validate', validate);
  wire('#btn-dryrun', dryRun);
  wire('#btn-publish', publish);
  wire('#btn-compare', compare);
  const trialForm = mountDryRunForm($('#trial-form'), $('#trial-choices'),
    { trial: config.trial, forms: config.conditions.forms, registry });
  modeler.on('commandStack.changed', () => { dirty = true; $('#designer-dirty').hidden = false; trialForm.refresh(); });
  window.addEventListener('beforeunload', (e) => { if (dirty) { e.preventDefault(); e.returnValue = ''; } });
  renderVersions(config.versions);
  window.bdcModeler = modeler;
  return modeler.importXML(config.xml).then((result) => {
    showImportWarnings($('#import-warnings'), result.warnings);
    canvas.zoom('fit-viewport');
    trialForm.refresh();
    status(`已打开${config.source === '草稿' ? '草稿' : '版本 ' + config.source}。选中元素后在右侧“登记属性”中设置角色、表单、阶段等。`, 'info');
    document.body.dataset.designerReady = 'true';
  }).catch((e) => {
    showImportWarnings($('#import-warnings'), e.warnings);
    status(`流程图无法打开：${e.message}`, 'error');
  });
}
