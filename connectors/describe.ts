/**
 * Reads a kind's zod schemas back as plain field lists, so `channels add
 * --help` can list every setting and credential and a missing one can be
 * named, from the same schemas that validate them (no second list to forget).
 */
import type { z } from 'zod';

export interface FieldInfo {
  key: string;
  required: boolean;
  /** The default applied when it is left out. */
  default?: unknown;
  /** Allowed values of an enum. */
  values?: string[];
}

interface Def {
  type: string;
  shape?: Record<string, { _zod: { def: Def } }>;
  in?: { _zod: { def: Def } };
  options?: Array<{ _zod: { def: Def } }>;
  innerType?: { _zod: { def: Def } };
  defaultValue?: unknown;
  entries?: Record<string, string>;
}

const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def;

/** The alternatives a schema accepts (a union gives several), each a list of fields. */
export function fieldsOf(schema: z.ZodType): FieldInfo[][] {
  const def = defOf(schema);
  if (def.type === 'pipe' && def.in) return fieldsOf(def.in as unknown as z.ZodType);
  if (def.type === 'union' && def.options) return def.options.flatMap((o) => fieldsOf(o as unknown as z.ZodType));
  if (def.type !== 'object' || !def.shape) return [];
  return [Object.entries(def.shape).map(([key, field]) => describeField(key, field._zod.def))];
}

function describeField(key: string, def: Def): FieldInfo {
  const info: FieldInfo = { key, required: true };
  for (let d: Def | undefined = def; d; d = d.innerType?._zod.def ?? (d.type === 'pipe' ? d.in?._zod.def : undefined)) {
    if (d.type === 'optional') info.required = false;
    if (d.type === 'default') {
      info.required = false;
      info.default = d.defaultValue;
    }
    if (d.type === 'enum' && d.entries) info.values = Object.values(d.entries);
  }
  return info;
}

function fieldText(f: FieldInfo): string {
  const extra = [f.required ? 'required' : null, f.values ? f.values.join('|') : null, f.default !== undefined ? `default ${String(f.default)}` : null].filter(Boolean);
  return extra.length ? `${f.key} (${extra.join(', ')})` : f.key;
}

const OR = `\n${' '.repeat(14)}or `;

/** Help text: every kind with its settings (`-s key=value`) and credentials (`-c key=value`). */
export function describeKinds(factories: Iterable<{ kind: string; displayName: string; settingsSchema: z.ZodType; credentialsSchema: z.ZodType }>): string {
  const lines = ['', 'Channel kinds, their settings (-s key=value) and credentials (-c key=value):'];
  for (const f of factories) {
    lines.push(`  ${f.kind} (${f.displayName})`);
    lines.push(`    settings:    ${fieldsOf(f.settingsSchema).map((alt) => alt.map(fieldText).join(', ')).join(OR)}`);
    lines.push(`    credentials: ${fieldsOf(f.credentialsSchema).map((alt) => alt.map(fieldText).join(', ')).join(OR)}`);
  }
  return lines.join('\n');
}

/**
 * Names what is missing from `value`, or null when nothing required is. For
 * a union, the alternative closest to what was given is named, with the others.
 */
export function missingFields(schema: z.ZodType, value: Record<string, unknown>): string | null {
  const alternatives = fieldsOf(schema).map((fields) => ({
    fields,
    missing: fields.filter((f) => f.required && value[f.key] === undefined).map((f) => f.key),
    given: fields.filter((f) => value[f.key] !== undefined).length,
  }));
  if (alternatives.length === 0 || alternatives.some((a) => a.missing.length === 0)) return null;
  const closest = [...alternatives].sort((a, b) => b.given - a.given || a.missing.length - b.missing.length)[0]!;
  const text = `missing ${closest.missing.join(', ')}`;
  if (alternatives.length === 1) return text;
  const ways = alternatives.map((a) => a.fields.filter((f) => f.required).map((f) => f.key).join(' and ')).join(', or ');
  return `${text} (give ${ways})`;
}
