import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ClusterFileSchema } from '../../src/config/cluster-file.js';
import { clusterFileFieldsTable, fieldRows, fieldsTable, FIELDS_END, FIELDS_START, withFieldsTable } from '../../src/config/schema-docs.js';

const README = new URL('../../README.md', import.meta.url);

describe("README's table of the cluster file's fields", () => {
  it('is what the schema renders (run npm run docs to rewrite it)', () => {
    const readme = readFileSync(README, 'utf8');
    // toBe prints a line diff on failure.
    expect(readme, "README.md's cluster file table is out of date with src/config/cluster-file.ts: run npm run docs").toBe(
      withFieldsTable(readme, clusterFileFieldsTable()),
    );
  });

  it('has a row for every top-level field of the schema', () => {
    const table = clusterFileFieldsTable();
    for (const field of Object.keys(ClusterFileSchema.shape)) expect(table).toContain(`| \`${field}\` |`);
  });
});

describe('fieldRows', () => {
  const schema = z.strictObject({
    name: z.string().default('dev').describe('A name.'),
    mode: z.enum(['a', 'b']).describe('Which.'),
    port: z.number().int().min(1).max(9).optional(),
    address: z.union([z.ipv4(), z.ipv6()]).optional(),
    tags: z.record(z.string(), z.boolean()).default({}),
    section: z.strictObject({ inner: z.literal('x').describe('Only x.') }).describe('A section.'),
    list: z
      .array(z.strictObject({ key: z.string().describe('Its key.'), args: z.array(z.string()).meta({ id: 'Args', description: 'Some args.' }).optional() }))
      .default([]),
  });

  it('walks nested mappings and list items, with types, defaults, required fields and descriptions', () => {
    const rows = fieldRows(z.toJSONSchema(schema, { io: 'input' }) as Parameters<typeof fieldRows>[0]);
    expect(rows.map((row) => [row.path, row.type, row.default, row.description])).toEqual([
      ['name', 'string', '`dev`', 'A name.'],
      ['mode', '`a` or `b`', 'required', 'Which.'],
      ['port', 'integer, 1 to 9', '', ''],
      ['address', 'IP address', '', ''],
      ['tags', 'mapping of names to booleans', '', ''],
      ['section', 'mapping', 'required', 'A section.'],
      ['section.inner', '`x`', 'required', 'Only x.'],
      ['list', 'list of mappings', '', ''],
      ['list[].key', 'string', 'required', 'Its key.'],
      ['list[].args', 'list of string', '', 'Some args.'],
    ]);
  });

  it('keeps a cell whole in Markdown: pipes, angle brackets, asterisks and newlines', () => {
    expect(fieldsTable([{ path: 'a', type: '`x` | `y`', default: '', description: 'nodes are <name>-1,\nkeys ~/.ssh/id_*' }]).split('\n')[2]).toBe(
      '| `a` | `x` \\| `y` |  | nodes are &lt;name>-1, keys ~/.ssh/id_\\* |',
    );
  });
});

describe('withFieldsTable', () => {
  it('replaces what is between the markers, and only that', () => {
    const readme = `# Title\n\n${FIELDS_START}\nold\ntable\n${FIELDS_END}\n\nAfter.\n`;
    expect(withFieldsTable(readme, '| new |')).toBe(`# Title\n\n${FIELDS_START}\n| new |\n${FIELDS_END}\n\nAfter.\n`);
  });

  it.each([
    ['no markers', 'text'],
    ['the end before the start', `${FIELDS_END}\n${FIELDS_START}`],
    ['two starts', `${FIELDS_START}\n${FIELDS_START}\n${FIELDS_END}`],
  ])('refuses a README with %s', (_what, readme) => {
    expect(() => withFieldsTable(readme, 'x')).toThrow(/needs <!-- cluster-file-fields:start --> and <!-- cluster-file-fields:end --> once each/);
  });
});
