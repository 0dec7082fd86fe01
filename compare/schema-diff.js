// The structured diff of two SDL files (sorted with graphql-js' lexicographicSortSchema), shared
// by compare.js (run.sh) and sdl.js (sdl.sh).
'use strict';
const fs = require('fs');
const { buildSchema, lexicographicSortSchema, isObjectType, isInterfaceType, isInputObjectType,
  isEnumType, isUnionType } = require('graphql');

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

module.exports = { sortedSchema, schemaDiff };
