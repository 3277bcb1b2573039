// The condition builder: rows of (form field — operator — value) joined by 且/或, writing the expression text
// of the safe expression language. Plain DOM, so the designer's properties panel (flows) and the type page
// (fees' `when`) mount the same widget. The expression text stays the advanced view: a text the builder
// cannot represent (parseCondition → null) is shown only there, and the builder says so.
import { OPERATORS, JOINS, parseCondition, buildCondition, rowProblem } from './condition_expr';
import { el } from './dom';

function select(attrs, options, current) {
  const node = el('select', attrs, options.map((o) => el('option', { value: o.value, text: o.label })));
  node.value = current === undefined || current === null ? '' : String(current);
  return node;
}

function typed(raw, field) {
  if (!field) return raw;
  if (field.type === 'number' || field.type === 'integer') return raw === '' ? '' : Number(raw);
  if (field.type === 'boolean') return raw === 'true';
  return raw;
}

function optionsOf(field) {
  if (field && field.options && field.options.length) return field.options;
  if (field && field.type === 'boolean') return [{ value: true, label: '是' }, { value: false, label: '否' }];
  return null;
}

/**
 * Mount a builder in ``container``. ``fields``: [{name, label, type, format?, options?: [{value, label}],
 * group?}]. ``onChange(text)`` gets the expression text after each valid edit (''
 * when all rows are removed). Returns {update(text)} to follow edits made in the advanced view.
 */
export function mountConditionBuilder(container, { fields, text, onChange }) {
  const byName = () => Object.fromEntries(fields.map((f) => [f.name, f]));
  let state = parseCondition(text);
  let lastText = (text || '').trim();

  function emit() {
    const catalogue = byName();
    const problems = state.rows.map((row) => rowProblem(row, catalogue[row.field]));
    render(problems);
    if (problems.some(Boolean)) return;
    lastText = buildCondition(state, fields);
    onChange(lastText);
  }

  function valueInput(row, i, field) {
    const op = OPERATORS.find((o) => o.value === row.op) || OPERATORS[0];
    const choices = optionsOf(field);
    const label = `条件 ${i + 1} 的值`;
    if (op.list && choices) {
      const chosen = Array.isArray(row.value) ? row.value : [];
      return el('span', { class: 'bdc-cond-value', role: 'group', 'aria-label': label }, choices.map((o) => {
        const box = el('input', { type: 'checkbox', value: String(o.value), checked: chosen.includes(o.value) });
        box.addEventListener('change', () => {
          row.value = choices.filter((c) => (c.value === o.value ? box.checked : chosen.includes(c.value))).map((c) => c.value);
          emit();
        });
        return el('label', { class: 'choice' }, [box, document.createTextNode(` ${o.label}`)]);
      }));
    }
    if (choices) {
      const node = select({ class: 'bdc-cond-value', 'aria-label': label },
        [{ value: '', label: '（请选择）' }, ...choices.map((o) => ({ value: String(o.value), label: o.label }))],
        row.value === undefined ? '' : String(row.value));
      node.addEventListener('change', () => {
        const found = choices.find((o) => String(o.value) === node.value);
        row.value = found ? found.value : '';
        emit();
      });
      return node;
    }
    const numeric = field && (field.type === 'number' || field.type === 'integer');
    const shown = Array.isArray(row.value) ? row.value.join('、') : (row.value === undefined || row.value === null ? '' : String(row.value));
    const node = el('input', { type: 'text', class: 'bdc-cond-value', 'aria-label': label, value: shown,
      inputmode: numeric ? 'decimal' : undefined,
      placeholder: op.list ? '多个值以顿号或逗号分隔' : (field && field.format === 'date' ? '如 2026-01-05' : '') });
    node.addEventListener('change', () => {
      const raw = node.value.trim();
      row.value = op.list ? raw.split(/[、,，]\s*/).filter(Boolean).map((v) => typed(v, field)) : typed(raw, field);
      emit();
    });
    return node;
  }

  function rowNode(row, i, problem) {
    const catalogue = byName();
    const field = catalogue[row.field];
    const fieldOptions = [{ value: '', label: '（请选择字段）' },
      ...fields.map((f) => ({ value: f.name, label: f.group ? `${f.label}（${f.group}）` : f.label }))];
    if (row.field && !field) fieldOptions.push({ value: row.field, label: `${row.field}（未知字段）` });
    const fieldSelect = select({ class: 'bdc-cond-field', 'aria-label': `条件 ${i + 1} 的字段` }, fieldOptions, row.field);
    fieldSelect.addEventListener('change', () => {
      row.field = fieldSelect.value;
      const f = byName()[row.field];
      const op = OPERATORS.find((o) => o.value === row.op);
      row.value = op && op.list ? [] : (f && f.type === 'boolean' ? true : '');
      emit();
    });
    const opSelect = select({ class: 'bdc-cond-op', 'aria-label': `条件 ${i + 1} 的运算` }, OPERATORS, row.op);
    opSelect.addEventListener('change', () => {
      const wasList = Array.isArray(row.value);
      row.op = opSelect.value;
      const isList = OPERATORS.find((o) => o.value === row.op).list;
      if (wasList !== Boolean(isList)) row.value = isList ? (row.value === '' ? [] : [row.value]) : (row.value[0] ?? '');
      emit();
    });
    const remove = el('button', { type: 'button', class: 'link bdc-cond-remove', text: '删除', 'aria-label': `删除条件 ${i + 1}` });
    remove.addEventListener('click', () => { state.rows.splice(i, 1); emit(); });
    return el('div', { class: 'bdc-cond-row', 'data-row': String(i) }, [
      fieldSelect, opSelect, valueInput(row, i, field), remove,
      ...(problem ? [el('p', { class: 'error-message bdc-cond-problem', role: 'alert', text: problem })] : [])]);
  }

  function render(problems) {
    container.innerHTML = '';
    const box = el('div', { class: 'bdc-cond' });
    if (state === null) {
      box.appendChild(el('p', { class: 'hint bdc-cond-advanced',
        text: '此条件较复杂，无法用条件构建器表示，请在下方“表达式（高级）”中编辑；清空表达式后可重新使用构建器。' }));
      container.appendChild(box);
      return;
    }
    if (state.rows.length > 1) {
      const join = select({ class: 'bdc-cond-join', 'aria-label': '条件关系' }, JOINS, state.join);
      join.addEventListener('change', () => { state.join = join.value; emit(); });
      box.appendChild(el('div', { class: 'bdc-cond-joinline' }, [el('span', { text: '条件关系：' }), join]));
    }
    state.rows.forEach((row, i) => box.appendChild(rowNode(row, i, (problems || [])[i])));
    if (!state.rows.length) box.appendChild(el('p', { class: 'hint', text: '无条件（总是可走）。点击“添加条件”选择字段、运算和值。' }));
    const add = el('button', { type: 'button', class: 'secondary bdc-cond-add', text: '添加条件' });
    add.addEventListener('click', () => { state.rows.push({ field: '', op: '==', value: '' }); render(); });
    box.appendChild(add);
    container.appendChild(box);
  }

  render();
  return {
    /** The advanced view changed the text: show it in the builder unless the builder wrote it itself. */
    update(newText) {
      const t = (newText || '').trim();
      if (t === lastText) return;
      lastText = t;
      state = parseCondition(t);
      render();
    }
  };
}
