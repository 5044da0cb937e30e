/**
 * The SDK's hand-written types (sdk/types.ts) against the API's contract (docs/openapi.yaml):
 * for every pair below, the property names must be the same at every depth (nested objects and
 * array items included), and a property is optional in TypeScript exactly when the schema does
 * not require it. Read with the TypeScript compiler's checker, so inheritance, Omit and
 * intersections are resolved as the compiler sees them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = join(__dirname, '..', '..', '..');
const TYPES_FILE = join(ROOT, 'sdk', 'types.ts');

type Schema = Record<string, unknown>;
const doc = parse(readFileSync(join(ROOT, 'docs', 'openapi.yaml'), 'utf8')) as { components: { schemas: Record<string, Schema> } };
const schemas = doc.components.schemas;

/** TypeScript type name → a path into components.schemas (`Name` or `Name.data` for envelopes). */
const PAIRS: Record<string, string> = {
  Dashboard: 'Dashboard',
  Quota: 'Quota',
  Last30Days: 'Totals',
  JobSummary: 'JobSummary',
  Usage: 'Usage',
  StatsPoint: 'Stats.points',
  Stats: 'Stats',
  RateReputation: 'RateWithStatus',
  Reputation: 'Reputation',
  Account: 'Account',
  SendEmailRequest: 'SendEmailRequest',
  SendEmailResult: 'JobAcceptedEnvelope.data',
  BulkEmailRequest: 'BulkEmailRequest',
  BulkEmailResult: 'JobAcceptedEnvelope.data',
  JobCounts: 'JobCounts',
  Job: 'Job',
  JobList: 'JobListEnvelope.data',
  Template: 'Template',
  TemplateList: 'TemplateListEnvelope.data',
  CreateTemplateRequest: 'CreateTemplateRequest',
  UpdateTemplateRequest: 'UpdateTemplateRequest',
  TemplateStats: 'TemplateStats',
  Tenant: 'Tenant',
  TenantDetails: 'TenantWithKeysEnvelope.data',
  CreatedTenant: 'CreatedTenantEnvelope.data',
  TenantList: 'TenantListEnvelope.data',
  ApiKeyInfo: 'Key',
  CreatedKey: 'IssuedKeyEnvelope.data',
  CreateTenantRequest: 'CreateTenantRequest',
  UpdateTenantRequest: 'UpdateTenantRequest',
};

/**
 * Where the document reuses a schema whose optional fields the API never sends in that place:
 * `Stats.totals` is a StatsPoint without its `hour`.
 */
const SCHEMA_ONLY: Record<string, string[]> = { 'Stats.totals': ['hour'] };

interface Shape {
  /** name → [optional, child shape (undefined for a leaf)] */
  props: Map<string, { optional: boolean; child: Shape | undefined }>;
}

// ---- the OpenAPI side --------------------------------------------------------------------------

function deref(s: Schema): Schema {
  const ref = s.$ref;
  if (typeof ref !== 'string') return s;
  const target = schemas[ref.replace('#/components/schemas/', '')];
  if (!target) throw new Error(`unresolved ${ref}`);
  return deref(target);
}

/** Properties and required names of an object schema, merging allOf. */
function objectParts(input: Schema): { props: Record<string, Schema>; required: Set<string> } | undefined {
  const s = deref(input);
  const props: Record<string, Schema> = {};
  const required = new Set<string>((s.required as string[] | undefined) ?? []);
  let isObject = false;
  for (const part of (s.allOf as Schema[] | undefined) ?? []) {
    const inner = objectParts(part);
    if (!inner) continue;
    isObject = true;
    Object.assign(props, inner.props);
    for (const r of inner.required) required.add(r);
  }
  if (s.properties) {
    isObject = true;
    for (const [k, v] of Object.entries(s.properties as Record<string, Schema>)) props[k] = { ...(props[k] ?? {}), ...v };
  }
  return isObject ? { props, required } : undefined;
}

function schemaShape(input: Schema): Shape | undefined {
  const s = deref(input);
  if (s.type === 'array' && s.items) return schemaShape(s.items as Schema);
  const parts = objectParts(s);
  if (!parts || Object.keys(parts.props).length === 0) return undefined;
  const props: Shape['props'] = new Map();
  for (const [name, sub] of Object.entries(parts.props)) {
    // A property that only narrows an inherited one (`status: { const: queued }`) adds no shape.
    props.set(name, { optional: !parts.required.has(name), child: schemaShape(sub) });
  }
  return { props };
}

function schemaAt(path: string): Schema {
  const [name, ...rest] = path.split('.');
  let s = schemas[name ?? ''];
  if (!s) throw new Error(`no schema ${name}`);
  for (const key of rest) {
    const parts = objectParts(s);
    const next = parts?.props[key];
    if (!next) throw new Error(`no ${key} in ${path}`);
    s = next;
  }
  return s;
}

// ---- the TypeScript side -----------------------------------------------------------------------

const program = ts.createProgram([TYPES_FILE], { strict: true, noEmit: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022 });
const checker = program.getTypeChecker();
const sourceFile = program.getSourceFile(TYPES_FILE);
if (!sourceFile) throw new Error('sdk/types.ts not found');
const moduleSymbol = checker.getSymbolAtLocation(sourceFile);
const exported = new Map((moduleSymbol ? checker.getExportsOfModule(moduleSymbol) : []).map((s) => [s.name, s]));

function membersOf(type: ts.Type): ts.Type[] {
  return type.isUnion() ? type.types : [type];
}

function typeShape(raw: ts.Type, depth = 0): Shape | undefined {
  if (depth > 8) return undefined;
  const type = checker.getNonNullableType(raw);
  const members = membersOf(type).filter((t) => !(t.flags & (ts.TypeFlags.Null | ts.TypeFlags.Undefined)));
  if (members.length === 1 && members[0] && checker.isArrayType(members[0])) {
    const [item] = checker.getTypeArguments(members[0] as ts.TypeReference);
    return item ? typeShape(item, depth + 1) : undefined;
  }
  // Objects with named properties have a shape; primitives, literals and Records are leaves.
  const objects = members.filter((t) => t.flags & ts.TypeFlags.Object || t.isIntersection());
  if (objects.length === 0 || objects.length !== members.length) return undefined;
  const props: Shape['props'] = new Map();
  for (const member of objects) {
    for (const sym of checker.getPropertiesOfType(member)) {
      const decl = sym.valueDeclaration ?? sym.declarations?.[0];
      const optional = (sym.flags & ts.SymbolFlags.Optional) !== 0;
      const prev = props.get(sym.name);
      const child = decl ? typeShape(checker.getTypeOfSymbolAtLocation(sym, decl), depth + 1) : undefined;
      props.set(sym.name, { optional: optional || (prev?.optional ?? false), child: prev?.child ?? child });
    }
  }
  // A property missing from some members of a union is optional overall.
  if (objects.length > 1) {
    for (const [name, p] of props) {
      if (objects.some((m) => !checker.getPropertyOfType(m, name))) p.optional = true;
    }
  }
  return props.size ? { props } : undefined;
}

function tsShape(name: string): Shape | undefined {
  const sym = exported.get(name);
  if (!sym) throw new Error(`sdk/types.ts exports no ${name}`);
  const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
  return typeShape(checker.getDeclaredTypeOfSymbol(target));
}

// ---- comparison --------------------------------------------------------------------------------

function differences(path: string, mine: Shape | undefined, theirs: Shape | undefined, out: string[]): string[] {
  if (!mine || !theirs) {
    if (mine && !theirs) out.push(`${path}: an object in sdk/types.ts, a value in the schema`);
    if (!mine && theirs) out.push(`${path}: a value in sdk/types.ts, an object in the schema`);
    return out;
  }
  const allowed = new Set(Object.entries(SCHEMA_ONLY).flatMap(([at, names]) => (path.endsWith(at) ? names : [])));
  for (const [name, p] of mine.props) {
    const other = theirs.props.get(name);
    if (!other) {
      out.push(`${path}.${name}: in sdk/types.ts, not in docs/openapi.yaml`);
      continue;
    }
    if (p.optional !== other.optional) {
      out.push(`${path}.${name}: ${p.optional ? 'optional' : 'required'} in sdk/types.ts, ${other.optional ? 'optional' : 'required'} in the schema`);
    }
    differences(`${path}.${name}`, p.child, other.child, out);
  }
  for (const name of theirs.props.keys()) {
    if (!mine.props.has(name) && !allowed.has(name)) out.push(`${path}.${name}: in docs/openapi.yaml, not in sdk/types.ts`);
  }
  return out;
}

describe('sdk/types.ts matches docs/openapi.yaml', () => {
  for (const [typeName, schemaPath] of Object.entries(PAIRS)) {
    it(`${typeName} ↔ ${schemaPath}`, () => {
      const mine = tsShape(typeName);
      const theirs = schemaShape(schemaAt(schemaPath));
      expect(mine, `${typeName} should be an object type`).toBeDefined();
      expect(differences(typeName, mine, theirs, [])).toEqual([]);
    });
  }

  it('detects a difference (the comparison is not vacuous)', () => {
    const mine = tsShape('Quota');
    const theirs = schemaShape(schemaAt('Totals'));
    expect(differences('Quota', mine, theirs, []).length).toBeGreaterThan(0);
  });
});
