// The dry run's input as forms, not JSON: the type's application form generated from its schema and
// pre-filled with sample data (app/catalog/sample_data.py), and one choice per user task of the diagram
// (the choice fields of the task's form, e.g. 予以受理 / 不予受理 / 需补正).
import { is } from 'bpmn-js/lib/util/ModelUtil';
import { el } from './dom';

function formKeyOf(bo) {
  const values = (bo.extensionElements && bo.extensionElements.get('values')) || [];
  const props = values.find((v) => is(v, 'spiffworkflow:Properties'));
  const prop = props && props.get('properties').find((p) => p.name === 'formKey');
  return prop ? prop.value || '' : '';
}

function fieldInput(field, value) {
  const id = `trial-field-${field.name}`;
  if (field.options && field.options.length) {
    const node = el('select', { id, name: field.name, 'data-type': field.type },
      [el('option', { value: '', text: '（不填）' }),
        ...field.options.map((o) => el('option', { value: String(o.value), text: o.label }))]);
    node.value = value === undefined || value === null ? '' : String(value);
    return node;
  }
  if (field.type === 'boolean') {
    return el('input', { id, name: field.name, type: 'checkbox', 'data-type': 'boolean', checked: value === true });
  }
  const numeric = field.type === 'number' || field.type === 'integer';
  return el('input', { id, name: field.name, 'data-type': field.type,
    type: numeric ? 'number' : (field.format === 'date' ? 'date' : 'text'), step: numeric ? 'any' : undefined,
    value: value === undefined || value === null ? '' : String(value) });
}

function readInput(node, field) {
  if (field.type === 'boolean' && node.type === 'checkbox') return node.checked;
  const raw = node.value.trim();
  if (raw === '') return undefined;
  if (field.options && field.options.length) {
    const found = field.options.find((o) => String(o.value) === raw);
    return found ? found.value : raw;
  }
  if (field.type === 'number' || field.type === 'integer') return Number(raw);
  return raw;
}

/**
 * Render the generated application form into ``formBox`` and the per-task choices into ``decisionBox``.
 * ``trial``: {fields, sample} from the server; ``forms``: {formKey: fields} (their choice fields are offered).
 * Returns {data(), decisions(), refresh()}; call refresh() when the diagram changed (tasks added or renamed).
 */
export function mountDryRunForm(formBox, decisionBox, { trial, forms, registry }) {
  formBox.innerHTML = '';
  const grid = el('div', { class: 'trial-form-grid' });
  trial.fields.forEach((field) => {
    const input = fieldInput(field, trial.sample[field.name]);
    const label = el('label', { for: input.id, text: field.label });
    grid.appendChild(el('div', { class: `field${field.type === 'boolean' ? ' checkbox' : ''}`, 'data-field': field.name },
      field.type === 'boolean' ? [input, label] : [label, input]));
  });
  formBox.appendChild(grid);
  const chosen = {};

  function refresh() {
    decisionBox.innerHTML = '';
    const tasks = registry.filter((e) => is(e, 'bpmn:UserTask'));
    tasks.forEach((task) => {
      const fields = (forms[formKeyOf(task.businessObject)] || []).filter((f) => f.options && f.options.length);
      fields.forEach((field) => {
        const id = `trial-decision-${task.id}-${field.name}`;
        const key = `${task.id}/${field.name}`;
        const node = el('select', { id, 'data-task': task.id, 'data-field': field.name },
          field.options.map((o) => el('option', { value: String(o.value), text: o.label })));
        node.value = key in chosen ? chosen[key] : String(field.options[0].value);
        node.addEventListener('change', () => { chosen[key] = node.value; });
        const name = task.businessObject.name || task.id;
        decisionBox.appendChild(el('div', { class: 'field', 'data-task': task.id }, [
          el('label', { for: id, text: `${name}：${field.label}` }), node]));
      });
    });
    if (!decisionBox.children.length) decisionBox.appendChild(el('p', { class: 'hint', text: '流程图中没有需要选择办理结论的用户任务。' }));
  }

  refresh();
  return {
    refresh,
    /** Process data: the sample (fields not shown, e.g. lists, keep their sample) overwritten by the form. */
    data() {
      const data = { ...trial.sample };
      trial.fields.forEach((field) => {
        const value = readInput(formBox.querySelector(`[name="${field.name}"]`), field);
        if (value === undefined) delete data[field.name]; else data[field.name] = value;
      });
      return data;
    },
    /** {taskId: {field: value}} from the choices shown (values typed as the form's options). */
    decisions() {
      const out = {};
      decisionBox.querySelectorAll('select[data-task]').forEach((node) => {
        const task = registry.get(node.dataset.task);
        if (!task) return;
        const field = (forms[formKeyOf(task.businessObject)] || [])
          .find((f) => f.name === node.dataset.field);
        const option = field && field.options.find((o) => String(o.value) === node.value);
        (out[node.dataset.task] = out[node.dataset.task] || {})[node.dataset.field] = option ? option.value : node.value;
      });
      return out;
    }
  };
}
