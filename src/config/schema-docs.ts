/**
 * README's table of the cluster file's fields, rendered from the one schema (through the JSON Schema z.toJSONSchema
 * makes of it, which has already resolved defaults, descriptions and types): `npm run docs` writes it between the
 * markers, and a unit test fails when README's copy differs.
 */
import { z } from 'zod';
import { ClusterFileSchema } from './cluster-file.js';

export const FIELDS_START = '<!-- cluster-file-fields:start -->';
export const FIELDS_END = '<!-- cluster-file-fields:end -->';

/** The part of JSON Schema that z.toJSONSchema writes for the cluster file. */
interface JsonSchema {
  type?: string;
  const?: unknown;
  enum?: unknown[];
  format?: string;
  minimum?: number;
  maximum?: number;
  default?: unknown;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
}

export interface FieldRow {
  /** `networking.podSubnet`, `hosts[].address`. */
  path: string;
  type: string;
  /** The default, `required`, or empty. */
  default: string;
  description: string;
}

const code = (value: unknown) => `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
const FORMATS: Record<string, string> = { ipv4: 'IPv4 address', ipv6: 'IPv6 address' };

function typeOf(schema: JsonSchema, resolve: (schema: JsonSchema) => JsonSchema): string {
  const node = resolve(schema);
  if (node.const !== undefined) return code(node.const);
  if (node.enum) return node.enum.map(code).join(' or ');
  if (node.anyOf) {
    const kinds = node.anyOf.map((alternative) => typeOf(alternative, resolve));
    // ipv4 or ipv6, however nested, is what a user calls an IP address.
    return kinds.join(' or ').replaceAll('IPv4 address or IPv6 address', 'IP address');
  }
  if (node.format && FORMATS[node.format]) return FORMATS[node.format]!;
  if (node.type === 'integer') return node.minimum !== undefined && node.maximum !== undefined ? `integer, ${node.minimum} to ${node.maximum}` : 'integer';
  if (node.type === 'array') return node.items && resolve(node.items).type === 'object' ? 'list of mappings' : `list of ${typeOf(node.items ?? {}, resolve)}`;
  if (node.type === 'object' && node.properties) return 'mapping';
  if (node.type === 'object') {
    const values = typeof node.additionalProperties === 'object' && Object.keys(node.additionalProperties).length > 0 ? node.additionalProperties : undefined;
    return values ? `mapping of names to ${typeOf(values, resolve)}s` : 'mapping';
  }
  return node.type ?? 'anything';
}

function defaultOf(schema: JsonSchema, required: boolean): string {
  if (required) return 'required';
  const value = schema.default;
  // An empty mapping or list as a default says nothing the type does not.
  if (value === undefined || (typeof value === 'object' && value !== null && Object.keys(value).length === 0)) return '';
  return code(value);
}

/** Every field of the schema, depth first in the schema's order; list items under `[]`. */
export function fieldRows(root: JsonSchema): FieldRow[] {
  const resolve = (schema: JsonSchema): JsonSchema => {
    if (!schema.$ref) return schema;
    const name = schema.$ref.replace(/^#\/\$defs\//, '');
    const target = root.$defs?.[name];
    if (!target) throw new Error(`unknown $ref ${schema.$ref}`);
    return { ...target, ...(schema.description === undefined ? {} : { description: schema.description }) };
  };
  const rows: FieldRow[] = [];
  const walk = (schema: JsonSchema, prefix: string) => {
    const node = resolve(schema);
    const object = node.type === 'array' && node.items ? resolve(node.items) : node;
    const inner = node.type === 'array' ? `${prefix}[]` : prefix;
    for (const [name, field] of Object.entries(object.properties ?? {})) {
      const path = inner === '' ? name : `${inner}.${name}`;
      const resolved = resolve(field);
      rows.push({
        path,
        type: typeOf(field, resolve),
        default: defaultOf(field, object.required?.includes(name) === true),
        description: field.description ?? resolved.description ?? '',
      });
      walk(field, path);
    }
  };
  walk(root, '');
  return rows;
}

/** Text safe in a Markdown table cell: no pipe ends the cell, no <name> is HTML, no * emphasis, no newline breaks the row. */
function cell(text: string): string {
  return text
    .replaceAll('|', '\\|')
    .replaceAll('<', '&lt;')
    .replaceAll('*', '\\*')
    .replace(/\s*\n\s*/g, ' ');
}

export function fieldsTable(rows: readonly FieldRow[]): string {
  return [
    '| Field | Type | Default | Description |',
    '| --- | --- | --- | --- |',
    ...rows.map((row) => `| ${[code(row.path), row.type, row.default, row.description].map(cell).join(' | ')} |`),
  ].join('\n');
}

/** The table of the cluster file's fields, as README holds it. */
export function clusterFileFieldsTable(): string {
  return fieldsTable(fieldRows(z.toJSONSchema(ClusterFileSchema, { io: 'input' }) as JsonSchema));
}

/** `readme` with the text between the markers replaced by `table`; throws when the markers are not there once each. */
export function withFieldsTable(readme: string, table: string): string {
  const start = readme.indexOf(FIELDS_START);
  const end = readme.indexOf(FIELDS_END);
  if (start === -1 || end < start || readme.indexOf(FIELDS_START, start + 1) !== -1)
    throw new Error(`README needs ${FIELDS_START} and ${FIELDS_END} once each, in that order`);
  return `${readme.slice(0, start + FIELDS_START.length)}\n${table}\n${readme.slice(end)}`;
}
