// Conditions as builder rows <-> expression text of the safe expression language (app/engine/expressions.py).
// Pure functions, no DOM: the condition builder (flows, fees' `when`) and tests/unit/test_condition_expr_roundtrip.py
// (run in node) use them. Only the simple shape is representable: `field op literal` clauses joined all by
// `and` or all by `or`; anything else (parentheses, function calls, arithmetic …) parses to null and stays in
// the advanced text view.

export const OPERATORS = [
  { value: '==', label: '等于' },
  { value: '!=', label: '不等于' },
  { value: '>', label: '大于', ordered: true },
  { value: '<', label: '小于', ordered: true },
  { value: '>=', label: '大于等于', ordered: true },
  { value: '<=', label: '小于等于', ordered: true },
  { value: 'in', label: '属于（其中之一）', list: true },
  { value: 'not in', label: '不属于（均不是）', list: true }
];
export const JOINS = [{ value: 'and', label: '全部满足（且）' }, { value: 'or', label: '任一满足（或）' }];

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KEYWORDS = { True: true, False: false, None: null };

function tokenize(text) {
  const tokens = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) { i += 1; continue; }
    if (c === '"' || c === "'") {
      let j = i + 1, value = '';
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\') {
          const next = text[j + 1];
          if (next !== '\\' && next !== '"' && next !== "'") return null; // other escapes: advanced view
          value += next; j += 2;
        } else { value += text[j]; j += 1; }
      }
      if (j >= text.length) return null;
      tokens.push({ kind: 'literal', value }); i = j + 1; continue;
    }
    const number = /^-?\d+(\.\d+)?/.exec(text.slice(i));
    if (number && !(tokens.length && tokens[tokens.length - 1].kind === 'name')) {
      tokens.push({ kind: 'literal', value: Number(number[0]) }); i += number[0].length; continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (word) {
      const w = word[0];
      if (w in KEYWORDS) tokens.push({ kind: 'literal', value: KEYWORDS[w] });
      else if (w === 'and' || w === 'or' || w === 'not' || w === 'in') tokens.push({ kind: w });
      else tokens.push({ kind: 'name', value: w });
      i += w.length; continue;
    }
    const op = /^(==|!=|>=|<=|>|<|\[|\]|,)/.exec(text.slice(i));
    if (!op) return null; // parentheses, arithmetic, calls …
    tokens.push({ kind: op[0] }); i += op[0].length;
  }
  return tokens;
}

function parseClause(tokens, at) {
  const name = tokens[at];
  if (!name || name.kind !== 'name') return null;
  let op = tokens[at + 1] && tokens[at + 1].kind, next = at + 2;
  if (op === 'not' && tokens[at + 2] && tokens[at + 2].kind === 'in') { op = 'not in'; next = at + 3; }
  if (!OPERATORS.some((o) => o.value === op)) return null;
  if (op === 'in' || op === 'not in') {
    if (!tokens[next] || tokens[next].kind !== '[') return null;
    const values = [];
    let j = next + 1;
    while (tokens[j] && tokens[j].kind === 'literal') {
      values.push(tokens[j].value);
      j += 1;
      if (tokens[j] && tokens[j].kind === ',') j += 1; else break;
    }
    if (!tokens[j] || tokens[j].kind !== ']' || !values.length) return null;
    return { row: { field: name.value, op, value: values }, next: j + 1 };
  }
  const literal = tokens[next];
  if (!literal || literal.kind !== 'literal') return null;
  return { row: { field: name.value, op, value: literal.value }, next: next + 1 };
}

/** Builder rows of a condition text: {join: 'and'|'or', rows: [{field, op, value}]}, or null when the text is
 *  not of the simple shape (it is then edited in the advanced view only). Empty text: no rows. */
export function parseCondition(text) {
  const source = (text || '').trim();
  if (!source) return { join: 'and', rows: [] };
  const tokens = tokenize(source);
  if (!tokens) return null;
  const clauses = [], joins = [];
  let at = 0;
  for (;;) {
    const clause = parseClause(tokens, at);
    if (!clause) return null;
    clauses.push(clause.row);
    at = clause.next;
    if (at === tokens.length) break;
    const kind = tokens[at].kind;
    if (kind !== 'and' && kind !== 'or') return null;
    joins.push(kind);
    at += 1;
  }
  // `f != None and f > 1` is one guarded row (see buildCondition); `and` binds tighter than `or`, so the
  // pair stays one row between `or`s too.
  const rows = [], between = [];
  for (let i = 0; i < clauses.length; i += 1) {
    const c = clauses[i], next = clauses[i + 1];
    if (c.op === '!=' && c.value === null && next && joins[i] === 'and' && next.field === c.field && isOrdered(next.op)) {
      if (i > 0) between.push(joins[i - 1]);
      rows.push(next);
      i += 1;
    } else {
      if (i > 0) between.push(joins[i - 1]);
      rows.push(c);
    }
  }
  if (new Set(between).size > 1) return null; // mixed and/or: advanced view
  return { join: between[0] || 'and', rows };
}

function isOrdered(op) {
  return OPERATORS.some((o) => o.value === op && o.ordered);
}

function literal(value, type) {
  if (value === null || value === undefined) return 'None';
  if (type === 'boolean' || typeof value === 'boolean') return value === true || value === 'true' ? 'True' : 'False';
  if ((type === 'number' || type === 'integer') || typeof value === 'number') return String(Number(value));
  return JSON.stringify(String(value)); // a JSON string is a valid Python string literal
}

/** Problem with one row (Chinese), or null; ``field`` is the row's field from the catalogue (may be absent). */
export function rowProblem(row, field) {
  if (!row.field || !NAME.test(row.field)) return '请选择字段';
  const op = OPERATORS.find((o) => o.value === row.op);
  if (!op) return '请选择运算';
  const type = field ? field.type : null;
  const values = op.list ? (Array.isArray(row.value) ? row.value : []) : [row.value];
  if (!values.length) return '请至少选择一个值';
  if (op.ordered && (type === 'string' && !(field && field.format === 'date'))) return `“${field.label}”是文本，不能比较大小`;
  if (op.ordered && type === 'boolean') return `“${field.label}”是是/否，不能比较大小`;
  for (const v of values) {
    if (v === '' || v === undefined) return '请填写值';
    if ((type === 'number' || type === 'integer') && (v === null || !Number.isFinite(Number(v)))) return `“${field.label}”应填写数字`;
    if (type === 'integer' && !Number.isInteger(Number(v))) return `“${field.label}”应填写整数`;
    if (field && field.format === 'date' && !/^\d{4}-\d{2}-\d{2}$/.test(String(v))) return `“${field.label}”应填写日期，如 2026-01-05`;
    if (field && field.options && field.options.length && !field.options.some((o) => o.value === v)) {
      return `“${field.label}”的值应从选项中选择`;
    }
  }
  return null;
}

/** Expression text of builder rows (fields: the catalogue, used for literal types; an ``optional`` field —
 *  None when empty — gets `f != None and` before a 大于/小于 comparison). Rows must be valid. */
export function buildCondition(condition, fields) {
  const byName = Object.fromEntries((fields || []).map((f) => [f.name, f]));
  const parts = condition.rows.map((row) => {
    const type = byName[row.field] ? byName[row.field].type : null;
    const value = Array.isArray(row.value) ? `[${row.value.map((v) => literal(v, type)).join(', ')}]` : literal(row.value, type);
    const field = byName[row.field];
    // An optional field is None when left empty (fees' `when`): compare its size only when it is filled.
    const guard = field && field.optional && isOrdered(row.op) ? `${row.field} != None and ` : '';
    return `${guard}${row.field} ${row.op} ${value}`;
  });
  return parts.join(` ${condition.join === 'or' ? 'or' : 'and'} `);
}
