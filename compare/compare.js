// Compares postgraph with PostGraphile v4: normalised SDL diff, then every query of
// compare/queries/*.graphql against both servers. Usage (run.sh calls it):
//   node compare.js V4_URL POSTGRAPH_URL OUT_DIR RESULTS_MD
// Query files may start with directive comments:
//   # token: alice        (signs in as alice@example.com on each server first)
//   # variables: {"id": 1}
'use strict';
const fs = require('fs');
const path = require('path');
const { buildSchema, lexicographicSortSchema, printSchema, isObjectType, isInterfaceType,
  isInputObjectType, isEnumType, isUnionType, validateSchema } = require('graphql');

const [v4Url, pgUrl, outDir, resultsPath] = process.argv.slice(2);
const here = __dirname;
const passwords = { alice: 'correct horse', bob: 'battery staple', carol: 'carol-password' };

function sortedSchema(file) {
  return lexicographicSortSchema(buildSchema(fs.readFileSync(file, 'utf8')));
}

// Descriptions compare with whitespace collapsed (v4 wraps its long ones at 80 columns).
const desc = d => (d || '').replace(/\s+/g, ' ').trim();

function typeKind(t) {
  if (isObjectType(t)) return 'type';
  if (isInterfaceType(t)) return 'interface';
  if (isInputObjectType(t)) return 'input';
  if (isEnumType(t)) return 'enum';
  if (isUnionType(t)) return 'union';
  return 'scalar';
}

// A structured diff of two schemas: lines grouped by kind of difference.
function schemaDiff(a, b) {
  const groups = { onlyV4: [], onlyPg: [], kind: [], fieldsOnlyV4: [], fieldsOnlyPg: [],
    fieldType: [], args: [], enumValues: [], interfaces: [], descriptions: [] };
  const ta = a.getTypeMap(), tb = b.getTypeMap();
  const names = new Set([...Object.keys(ta), ...Object.keys(tb)]);
  for (const n of [...names].sort()) {
    if (n.startsWith('__')) continue;
    const x = ta[n], y = tb[n];
    if (!y) { groups.onlyV4.push(`${typeKind(x)} ${n}`); continue; }
    if (!x) { groups.onlyPg.push(`${typeKind(y)} ${n}`); continue; }
    if (typeKind(x) !== typeKind(y)) { groups.kind.push(`${n}: v4 ${typeKind(x)}, postgraph ${typeKind(y)}`); continue; }
    if (desc(x.description) !== desc(y.description)) groups.descriptions.push([n, x.description, y.description]);
    if (isEnumType(x)) {
      const va = x.getValues().map(v => v.name), vb = y.getValues().map(v => v.name);
      const oa = va.filter(v => !vb.includes(v)), ob = vb.filter(v => !va.includes(v));
      if (oa.length || ob.length) groups.enumValues.push(`${n}: only v4 [${oa.join(', ')}]; only postgraph [${ob.join(', ')}]`);
      continue;
    }
    if (isObjectType(x) || isInterfaceType(x)) {
      const ia = x.getInterfaces().map(i => i.name).join(','), ib = y.getInterfaces().map(i => i.name).join(',');
      if (ia !== ib) groups.interfaces.push(`${n}: v4 implements [${ia}], postgraph [${ib}]`);
    }
    if (!(isObjectType(x) || isInterfaceType(x) || isInputObjectType(x))) continue;
    const fa = x.getFields(), fb = y.getFields();
    for (const f of Object.keys(fa)) if (!fb[f]) groups.fieldsOnlyV4.push(`${n}.${f}: ${fa[f].type}`);
    for (const f of Object.keys(fb)) if (!fa[f]) groups.fieldsOnlyPg.push(`${n}.${f}: ${fb[f].type}`);
    for (const f of Object.keys(fa)) {
      if (!fb[f]) continue;
      if (String(fa[f].type) !== String(fb[f].type)) groups.fieldType.push(`${n}.${f}: v4 ${fa[f].type}, postgraph ${fb[f].type}`);
      if (desc(fa[f].description) !== desc(fb[f].description)) groups.descriptions.push([`${n}.${f}`, fa[f].description, fb[f].description]);
      if ('defaultValue' in fa[f] && JSON.stringify(fa[f].defaultValue) !== JSON.stringify(fb[f].defaultValue))
        groups.args.push(`${n}.${f} default: v4 ${JSON.stringify(fa[f].defaultValue)}, postgraph ${JSON.stringify(fb[f].defaultValue)}`);
      const aa = Object.fromEntries((fa[f].args || []).map(g => [g.name, g]));
      const ab = Object.fromEntries((fb[f].args || []).map(g => [g.name, g]));
      for (const g of Object.keys(aa)) {
        if (!ab[g]) groups.args.push(`${n}.${f}(${g}: ${aa[g].type}) only in v4`);
        else {
          if (String(aa[g].type) !== String(ab[g].type)) groups.args.push(`${n}.${f}(${g}): v4 ${aa[g].type}, postgraph ${ab[g].type}`);
          if (JSON.stringify(aa[g].defaultValue) !== JSON.stringify(ab[g].defaultValue))
            groups.args.push(`${n}.${f}(${g}) default: v4 ${JSON.stringify(aa[g].defaultValue)}, postgraph ${JSON.stringify(ab[g].defaultValue)}`);
        }
      }
      for (const g of Object.keys(ab)) if (!aa[g]) groups.args.push(`${n}.${f}(${g}: ${ab[g].type}) only in postgraph`);
      const oa = Object.keys(aa).join(','), ob = Object.keys(ab).join(',');
      if (oa !== ob && Object.keys(aa).length === Object.keys(ab).length && Object.keys(aa).every(k => ab[k]))
        groups.args.push(`${n}.${f} argument order: v4 (${oa}), postgraph (${ob})`);
    }
  }
  return groups;
}

async function post(url, query, variables, token) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { body = { raw: text }; }
  return { status: res.status, body };
}

async function signin(url, who) {
  const q = 'mutation($e: String!, $p: String!) { signin(input: {email: $e, password: $p}) { jwtToken } }';
  const r = await post(url, q, { e: `${who}@example.com`, p: passwords[who] });
  return r.body.data && r.body.data.signin && r.body.data.signin.jwtToken;
}

// JWTs differ by construction (iat, aud, ...): show their claims' names instead.
function maskTokens(v) {
  if (typeof v === 'string' && /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/.test(v)) {
    const claims = JSON.parse(Buffer.from(v.split('.')[1], 'base64url').toString());
    return `<jwt ${Object.keys(claims).sort().map(k => k === 'exp' || k === 'iat' ? k : `${k}=${JSON.stringify(claims[k])}`).join(' ')}>`;
  }
  if (Array.isArray(v)) return v.map(maskTokens);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, maskTokens(x)]));
  return v;
}

function parseDirectives(text) {
  const d = {};
  for (const line of text.split('\n')) {
    const m = /^#\s*(\w+):\s*(.*)$/.exec(line);
    if (m) d[m[1]] = m[2].trim();
  }
  return d;
}

const stable = v => JSON.stringify(v, (k, x) => (x && typeof x === 'object' && !Array.isArray(x)
  ? Object.fromEntries(Object.keys(x).sort().map(key => [key, x[key]])) : x));
const pretty = v => JSON.stringify(v, null, 2);

// Leaf-level differences between two JSON values: `path: v4 X | postgraph Y`.
function leafDiff(a, b, p = '', out = []) {
  const isObj = v => v && typeof v === 'object';
  if (isObj(a) && isObj(b) && Array.isArray(a) === Array.isArray(b)) {
    const keys = Array.isArray(a) ? [...Array(Math.max(a.length, b.length)).keys()]
      : [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys) {
      const q = Array.isArray(a) ? `${p}[${k}]` : (p ? `${p}.${k}` : k);
      if (!(k in a)) out.push(`${q}: v4 (absent) | postgraph ${JSON.stringify(b[k])}`);
      else if (!(k in b)) out.push(`${q}: v4 ${JSON.stringify(a[k])} | postgraph (absent)`);
      else leafDiff(a[k], b[k], q, out);
    }
  } else if (stable(a) !== stable(b)) {
    out.push(`${p || '(root)'}: v4 ${JSON.stringify(a)} | postgraph ${JSON.stringify(b)}`);
  }
  return out;
}
const cursorNote = v => {
  if (typeof v !== 'string') return '';
  try { const t = Buffer.from(v, 'base64').toString(); return /^[\[{"]/.test(t) ? ` (decodes to ${t})` : ''; } catch { return ''; }
};
function diffLines(a, b) {
  return leafDiff(a, b).map(l => {
    const m = /^(.*): v4 (".*?") \| postgraph (".*")$/.exec(l);
    if (m && /ursor/.test(m[1])) return `${l}  — v4${cursorNote(JSON.parse(m[2]))}, postgraph${cursorNote(JSON.parse(m[3]))}`;
    return l;
  });
}
// Errors compare by message and path; codes are listed apart (v4 shows the SQLSTATE as
// `errcode` with --extended-errors, postgraph as `extensions.code`).
const errorsOf = b => (b.errors || []).map(e => ({ message: e.message, path: e.path }));
const codesOf = b => {
  const counts = new Map();
  for (const e of b.errors || []) {
    const c = e.errcode || (e.extensions && e.extensions.code) || '-';
    counts.set(c, (counts.get(c) || 0) + 1);
  }
  return [...counts].map(([c, n]) => (n > 1 ? `${c} ×${n}` : c)).join(', ');
};

async function main() {
  const md = ['# postgraph vs PostGraphile v4', '',
    `Generated by compare/run.sh on ${new Date().toISOString()}. v4 runs with ` +
    '`--extended-errors hint,detail,errcode` so that its errors show the SQLSTATE (`errcode`); ' +
    'JWTs are shown as their claims.', ''];

  // SDL
  const a = sortedSchema(path.join(outDir, 'v4.graphql'));
  const b = sortedSchema(path.join(outDir, 'postgraph.graphql'));
  fs.writeFileSync(path.join(outDir, 'v4.sorted.graphql'), printSchema(a));
  fs.writeFileSync(path.join(outDir, 'postgraph.sorted.graphql'), printSchema(b));
  const g = schemaDiff(a, b);
  md.push('## SDL differences', '', 'Full sorted SDLs: `compare/out/v4.sorted.graphql`, `compare/out/postgraph.sorted.graphql`.', '');
  for (const [who, sch] of [['v4', a], ['postgraph', b]]) {
    const errs = validateSchema(sch);
    md.push(`graphql-js validateSchema on the ${who} SDL: ${errs.length ? `**${errs.length} errors**` : 'valid'}.`, '',
      ...errs.map(e => `- ${e.message}`), ...(errs.length ? [''] : []));
  }
  const section = (title, list) => { if (list.length) md.push(`### ${title} (${list.length})`, '', ...list.map(l => `- \`${l}\``), ''); };
  section('Types only in v4', g.onlyV4);
  section('Types only in postgraph', g.onlyPg);
  section('Kind differs', g.kind);
  section('Interfaces differ', g.interfaces);
  section('Fields only in v4', g.fieldsOnlyV4);
  section('Fields only in postgraph', g.fieldsOnlyPg);
  section('Field types differ (type or nullability)', g.fieldType);
  section('Arguments differ', g.args);
  section('Enum values differ', g.enumValues);
  md.push(`### Descriptions differ (${g.descriptions.length} types and fields)`, '',
    'All of them: `compare/out/descriptions.md`. The first 15:', '',
    ...g.descriptions.slice(0, 15).map(([n, d1, d2]) => `- \`${n}\`: v4 ${JSON.stringify(d1 || null)}; postgraph ${JSON.stringify(d2 || null)}`), '');
  fs.writeFileSync(path.join(outDir, 'descriptions.md'), '# Descriptions that differ (v4 | postgraph)\n\n' +
    g.descriptions.map(([n, d1, d2]) => `- \`${n}\`\n  - v4: ${JSON.stringify(d1 || null)}\n  - postgraph: ${JSON.stringify(d2 || null)}`).join('\n') + '\n');

  // Queries
  const tokens = { v4: {}, pg: {} };
  for (const who of Object.keys(passwords)) {
    tokens.v4[who] = await signin(v4Url, who);
    tokens.pg[who] = await signin(pgUrl, who);
  }
  const qdir = process.env.QUERIES || path.join(here, 'queries');
  const files = fs.readdirSync(qdir).filter(f => f.endsWith('.graphql')).sort();
  const summary = [], details = [];
  for (const f of files) {
    const text = fs.readFileSync(path.join(qdir, f), 'utf8');
    const d = parseDirectives(text);
    const vars = d.variables ? JSON.parse(d.variables) : undefined;
    const rv4 = await post(v4Url, text, vars, d.token && tokens.v4[d.token]);
    const rpg = await post(pgUrl, text, vars, d.token && tokens.pg[d.token]);
    const name = f.replace(/\.graphql$/, '');
    const bv4 = maskTokens(rv4.body), bpg = maskTokens(rpg.body);
    fs.writeFileSync(path.join(outDir, `${name}.v4.json`), pretty({ status: rv4.status, ...bv4 }) + '\n');
    fs.writeFileSync(path.join(outDir, `${name}.postgraph.json`), pretty({ status: rpg.status, ...bpg }) + '\n');
    const dataSame = stable(bv4.data) === stable(bpg.data);
    const orderSame = JSON.stringify(bv4.data) === JSON.stringify(bpg.data);
    const sortedErrors = b => errorsOf(b).map(stable).sort().join('\n');
    const errOrderSame = stable(errorsOf(bv4)) === stable(errorsOf(bpg));
    const errSame = sortedErrors(bv4) === sortedErrors(bpg);
    const statusSame = rv4.status === rpg.status;
    const verdict = [dataSame ? (orderSame ? 'data same' : 'data same (key order differs)') : '**data differs**',
      errSame ? ((bv4.errors || []).length ? (errOrderSame ? 'errors same' : 'errors same (order differs)') : 'no errors') : '**errors differ**',
      statusSame ? `HTTP ${rv4.status}` : `**HTTP v4 ${rv4.status}, postgraph ${rpg.status}**`].join(', ');
    summary.push(`| ${name} | ${verdict} | ${codesOf(bv4) || ''} | ${codesOf(bpg) || ''} |`);
    if (!dataSame || !errSame || !statusSame) {
      details.push(`### ${name}`, '', '```graphql', text.trim(), '```', '');
      if (!dataSame) {
        const lines = diffLines(bv4.data, bpg.data);
        details.push(`data differences (${lines.length}):`, '', '```', ...lines.slice(0, 60), ...(lines.length > 60 ? [`... ${lines.length - 60} more`] : []), '```', '');
      }
      if (!errSame) details.push('v4 errors:', '', '```json', pretty(errorsOf(bv4)), '```', '', 'postgraph errors:', '', '```json', pretty(errorsOf(bpg)), '```', '');
      if (!statusSame) details.push(`HTTP status: v4 ${rv4.status}, postgraph ${rpg.status}`, '');
    }
  }
  md.push('## Queries', '', 'Raw responses: `compare/out/<query>.v4.json` and `compare/out/<query>.postgraph.json`.', '',
    'Errors are compared by message and path; the last two columns list the error codes ' +
    '(v4: `errcode`, only with --extended-errors; postgraph: `extensions.code`; `-` none).', '',
    '| query | result | v4 codes | postgraph codes |', '|---|---|---|---|', ...summary, '', '## Query differences', '', ...details);
  fs.writeFileSync(resultsPath, md.join('\n') + '\n');
}

main().catch(e => { console.error(e); process.exit(1); });
