// npm run docs: rewrites README's table of the cluster file's fields from the schema (src/config/schema-docs.ts).
import { readFile, writeFile } from 'node:fs/promises';
import { clusterFileFieldsTable, withFieldsTable } from '../src/config/schema-docs.js';

const README = new URL('../README.md', import.meta.url);
const before = await readFile(README, 'utf8');
const after = withFieldsTable(before, clusterFileFieldsTable());
if (after === before) console.log('README.md: the cluster file table is up to date');
else {
  await writeFile(README, after);
  console.log('README.md: rewrote the cluster file table');
}
