/**
 * Reading the cluster file: YAML with positions (yaml's LineCounter), validated by ClusterFileSchema, every problem
 * reported as `FILE:LINE:COL: path.to.field: message`; and the merge of the file with `rootlet up`'s flags.
 */
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, stringify, type Document } from 'yaml';
import { z } from 'zod';
import { ExitCode, RootletError, UsageError } from '../errors.js';
import { CLUSTER_API_VERSION, CLUSTER_KIND, ClusterFileSchema, parseDuration, type ClusterFile, type ClusterOptions, type CniName } from './cluster-file.js';
import { resolveMountPaths } from './cluster-file.js';

export interface ClusterFileProblem {
  line: number;
  col: number;
  /** Where in the file, like `networking.podSubnet` or `kubernetes.extraArgs.apiServer[0].name`; empty for the file itself. */
  path: string;
  message: string;
  hint?: string;
}

/** Every problem of one cluster file; the message is the first (in file order), the count says how many more. */
export class ClusterFileError extends RootletError {
  readonly problems: readonly ClusterFileProblem[];

  constructor(file: string, problems: readonly ClusterFileProblem[]) {
    const [first, ...rest] = problems;
    if (!first) throw new Error('a ClusterFileError needs a problem');
    const more = rest.length === 0 ? '' : ` (and ${rest.length} more problem${rest.length === 1 ? '' : 's'})`;
    super('cluster-file', `${file}:${first.line}:${first.col}: ${first.path === '' ? '' : `${first.path}: `}${first.message}${more}`, {
      exitCode: ExitCode.usage,
      ...(first.hint === undefined ? {} : { hint: first.hint }),
    });
    this.problems = problems;
  }
}

const START_HINT = `start the file with apiVersion: ${CLUSTER_API_VERSION} and kind: ${CLUSTER_KIND}`;

const EXPECTED: Record<string, string> = {
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

function describeValue(value: unknown): string {
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'object':
      return 'a mapping';
    case 'string':
      return JSON.stringify(value);
    case 'number':
    case 'boolean':
      return String(value);
    default:
      return typeof value;
  }
}

/** Messages for the issues the schema leaves to zod; the schema's own messages win over these. */
const messages: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'is required' : `must be ${EXPECTED[issue.expected] ?? issue.expected}, not ${describeValue(issue.input)}`;
    case 'invalid_value':
      return issue.input === undefined ? 'is required' : undefined;
    case 'too_small':
      return issue.origin === 'string' ? 'must not be empty' : `must be at least ${String(issue.minimum)}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}`;
    case 'unrecognized_keys':
      return 'unknown field';
    default:
      return undefined;
  }
};

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function formatPath(at: readonly PropertyKey[]): string {
  return at
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment}]`;
      const key = String(segment);
      return IDENTIFIER.test(key) ? `${index === 0 ? '' : '.'}${key}` : `[${JSON.stringify(key)}]`;
    })
    .join('');
}

/** The object schema at a path of the file, for the fields allowed there. */
function objectAt(at: readonly PropertyKey[]): z.ZodObject | undefined {
  let current: unknown = ClusterFileSchema;
  for (let index = 0; ; index++) {
    for (;;) {
      if (current instanceof z.ZodOptional || current instanceof z.ZodDefault || current instanceof z.ZodPrefault) current = current.unwrap();
      else if (current instanceof z.ZodPipe) current = current.in;
      else break;
    }
    if (index === at.length) return current instanceof z.ZodObject ? current : undefined;
    const segment = at[index]!;
    if (current instanceof z.ZodObject) current = (current.shape as Record<string, unknown>)[String(segment)];
    else if (current instanceof z.ZodArray) current = current.element;
    else if (current instanceof z.ZodRecord) current = current.valueType;
    else return undefined;
  }
}

/** Edits (insert, delete, replace, swap two neighbours) from a to b: how far a typo is from a field. */
function editDistance(a: string, b: string): number {
  const rows = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

function unknownFieldHint(parent: readonly PropertyKey[], key: string): string | undefined {
  const allowed = Object.keys(objectAt(parent)?.shape ?? {});
  if (allowed.length === 0) return undefined;
  const near = allowed
    .map((field) => ({ field, distance: field.toLowerCase() === key.toLowerCase() ? 0 : editDistance(field, key) }))
    .filter(({ distance }) => distance <= Math.max(1, Math.floor(key.length / 4)))
    .sort((a, b) => a.distance - b.distance)[0];
  const where = parent.length === 0 ? 'at the top level' : `under ${formatPath(parent)}`;
  return `${near ? `did you mean ${near.field}? ` : ''}fields allowed ${where}: ${allowed.join(', ')}`;
}

interface Located {
  at: PropertyKey[];
  /** Point at the key rather than the value (an unknown field, a bad key). */
  atKey: boolean;
  /** Where to point instead when `at` is not written in the file (a defaulted value). */
  alsoAt: PropertyKey[] | undefined;
  message: string;
  hint: string | undefined;
}

function isPath(value: unknown): value is PropertyKey[] {
  return Array.isArray(value) && value.every((segment) => typeof segment === 'string' || typeof segment === 'number');
}

function located(issue: z.core.$ZodIssue): Located[] {
  if (issue.code === 'unrecognized_keys')
    return issue.keys.map((key) => ({
      at: [...issue.path, key],
      atKey: true,
      alsoAt: undefined,
      message: issue.message,
      hint: unknownFieldHint(issue.path, key),
    }));
  if (issue.code === 'invalid_key')
    return [{ at: issue.path, atKey: true, alsoAt: undefined, message: issue.issues[0]?.message ?? issue.message, hint: undefined }];
  const params: Record<string, unknown> = issue.code === 'custom' ? (issue.params ?? {}) : {};
  let hint = typeof params.hint === 'string' ? params.hint : undefined;
  const header = issue.path.length === 1 && (issue.path[0] === 'apiVersion' || issue.path[0] === 'kind');
  if (hint === undefined && (issue.path.length === 0 || (header && issue.input === undefined))) hint = START_HINT;
  else if (hint === undefined && issue.code === 'invalid_value' && issue.values.length === 1)
    hint = `write ${formatPath(issue.path)}: ${String(issue.values[0])}`;
  const depth = typeof params.depth === 'number' ? params.depth : 0;
  const alsoAt = isPath(params.alsoAt) ? [...issue.path.slice(0, issue.path.length - depth), ...params.alsoAt] : undefined;
  return [{ at: issue.path, atKey: false, alsoAt, message: issue.message, hint }];
}

/** The offset of the deepest node of `at` written in the document, and whether all of `at` is written there. */
function resolve(document: Document, at: readonly PropertyKey[], atKey: boolean): { offset: number; complete: boolean } {
  let node: unknown = document.contents;
  let offset = isScalar(node) || isMap(node) || isSeq(node) ? (node.range?.[0] ?? 0) : 0;
  for (const [index, segment] of at.entries()) {
    let key: unknown;
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) return { offset, complete: false };
      key = pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
      node = node.items[segment];
    } else return { offset, complete: false };
    const keyOffset = isScalar(key) ? key.range?.[0] : undefined;
    const range = isScalar(node) || isMap(node) || isSeq(node) ? node.range : undefined;
    const written = range !== undefined && range !== null && range[1] > range[0];
    const last = index === at.length - 1;
    offset = (last && atKey) || !written ? (keyOffset ?? range?.[0] ?? offset) : range[0];
  }
  return { offset, complete: true };
}

const SYNTAX_HINTS: Record<string, string> = {
  DUPLICATE_KEY: 'keep one of the two',
  MULTIPLE_DOCS: 'keep one document: a cluster file describes one cluster',
  TAB_AS_INDENT: 'indent with spaces',
};

/**
 * The cluster file at `file`, whose content the caller read (through Host): parsed, validated, defaulted, with a
 * relative cni.manifest resolved against the file's directory. Any problem is one ClusterFileError (exit code 2).
 */
export function loadClusterFile(file: string, text: string): ClusterFile {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const position = (offset: number) => lineCounter.linePos(offset);
  if (document.errors.length > 0)
    throw new ClusterFileError(
      file,
      document.errors.map((error) => ({
        ...position(error.pos[0]),
        path: '',
        message: error.message.split('\n')[0]!,
        hint: SYNTAX_HINTS[error.code] ?? 'fix the YAML there',
      })),
    );
  if (document.contents === null) throw new ClusterFileError(file, [{ line: 1, col: 1, path: '', message: 'the file is empty', hint: START_HINT }]);

  const result = ClusterFileSchema.safeParse(document.toJS(), { error: messages, reportInput: true });
  if (!result.success) {
    const problems = result.error.issues.flatMap(located).map((problem) => {
      const where = resolve(document, problem.at, problem.atKey);
      const instead = !where.complete && problem.alsoAt ? resolve(document, problem.alsoAt, false) : undefined;
      return instead?.complete ? { offset: instead.offset, at: problem.alsoAt!, problem } : { offset: where.offset, at: problem.at, problem };
    });
    problems.sort((a, b) => a.offset - b.offset);
    throw new ClusterFileError(
      file,
      problems.map(({ offset, at, problem }) => ({
        ...position(offset),
        path: formatPath(at),
        message: problem.message,
        ...(problem.hint === undefined ? {} : { hint: problem.hint }),
      })),
    );
  }
  // Paths in the file are relative to its directory (~/ stays for the reader to expand).
  const fromFile = (relative: string) => (path.isAbsolute(relative) || relative.startsWith('~/') ? relative : path.join(path.dirname(file), relative));
  const manifest = result.data.cni.manifest;
  return {
    ...result.data,
    cni: manifest === undefined ? result.data.cni : { ...result.data.cni, manifest: fromFile(manifest) },
    hosts: result.data.hosts.map((entry) => (entry.identity === undefined ? entry : { ...entry, identity: fromFile(entry.identity) })),
    nodes: resolveMountPaths(result.data.nodes, file),
  };
}

/** `rootlet up`'s flags that describe the cluster. Unset means not given: the flag parser sets no defaults of its own. */
export interface ClusterFlags {
  name?: string | undefined;
  image?: string | undefined;
  workers?: number | undefined;
  cni?: CniName | undefined;
  /** Relative to the working directory, as any path on the command line. */
  cniManifest?: string | undefined;
  podSubnet?: string | undefined;
  serviceSubnet?: string | undefined;
  apiServerPort?: number | undefined;
  apiServerAddress?: string | undefined;
  kubeletPort?: number | undefined;
  vxlanPort?: number | undefined;
  advertiseAddress?: string | undefined;
  /** A duration, as parseDuration reads it. */
  wait?: string | undefined;
}

/** Where each flag lands in the file's shape. */
const FLAG_PATHS: Record<keyof ClusterFlags, readonly [string, ...string[]]> = {
  name: ['name'],
  image: ['image'],
  workers: ['workers'],
  cni: ['cni', 'name'],
  cniManifest: ['cni', 'manifest'],
  podSubnet: ['networking', 'podSubnet'],
  serviceSubnet: ['networking', 'serviceSubnet'],
  apiServerPort: ['networking', 'apiServerPort'],
  apiServerAddress: ['networking', 'apiServerAddress'],
  kubeletPort: ['networking', 'kubeletPort'],
  vxlanPort: ['networking', 'vxlanPort'],
  advertiseAddress: ['networking', 'advertiseAddress'],
  wait: ['wait'],
};

const flagName = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

function setIn(target: Record<string, unknown>, at: readonly [string, ...string[]], value: unknown): void {
  const [head, ...rest] = at;
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  const child = target[head];
  const next: Record<string, unknown> = typeof child === 'object' && child !== null ? { ...(child as Record<string, unknown>) } : {};
  target[head] = next;
  setIn(next, rest as [string, ...string[]], value);
}

/**
 * The cluster `up` makes: defaults < file < flags, where a flag counts only when given. The result is validated as a
 * whole, so a flag that conflicts with the file (an API server port equal to the file's kubeletPort) is a usage error
 * naming the flag. A --cni other than the file's drops the file's cni.manifest, which belongs to the file's CNI.
 */
export function mergeClusterOptions(file: ClusterFile | undefined, flags: ClusterFlags): ClusterOptions {
  const merged: Record<string, unknown> = structuredClone(file ?? { apiVersion: CLUSTER_API_VERSION, kind: CLUSTER_KIND });
  const given = new Map<string, string>();
  for (const [key, at] of Object.entries(FLAG_PATHS)) {
    const value = flags[key as keyof ClusterFlags];
    if (value === undefined) continue;
    setIn(merged, at, value);
    given.set(at.join('.'), flagName(key));
  }
  if (flags.cni !== undefined && flags.cniManifest === undefined && flags.cni !== file?.cni.name && typeof merged.cni === 'object' && merged.cni !== null)
    delete (merged.cni as { manifest?: string }).manifest;

  const result = ClusterFileSchema.safeParse(merged, { error: messages, reportInput: true });
  if (!result.success) {
    const problem = located(result.error.issues[0]!)[0]!;
    const flag = given.get(problem.at.join('.')) ?? (problem.alsoAt && given.get(problem.alsoAt.join('.')));
    throw new UsageError(`${flag ?? formatPath(problem.at)}: ${problem.message}`, problem.hint);
  }
  const { name, image, workers, cni, networking, kubernetes, nodes, wait, hosts } = result.data;
  // Every key listed, optional ones too: a field added to the file must be decided on here.
  const options: { [K in keyof Required<ClusterOptions>]: ClusterOptions[K] } = {
    name,
    image,
    workers,
    cni,
    networking,
    kubernetes,
    nodes,
    hosts,
    waitMs: parseDuration(wait),
  };
  return options;
}

/** A duration as the file writes it: whole hours, minutes or seconds when they fit ("5m", "90s", "1h"). */
function formatWait(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  return ms === 0 ? '0' : `${ms / 1000}s`;
}

/**
 * The merged cluster (defaults < file < flags) as a cluster file, for `rootlet up --print-config`: loading it back
 * gives the same cluster. Paths are absolute (the file's were resolved against its directory).
 */
export function renderClusterFile(options: ClusterOptions): string {
  const { waitMs, image, ...rest } = options;
  const document = {
    apiVersion: CLUSTER_API_VERSION,
    kind: CLUSTER_KIND,
    name: rest.name,
    ...(image === undefined ? {} : { image }),
    workers: rest.workers,
    cni: rest.cni,
    networking: rest.networking,
    kubernetes: rest.kubernetes,
    nodes: rest.nodes,
    wait: formatWait(waitMs),
    ...(rest.hosts.length === 0 ? {} : { hosts: rest.hosts }),
  };
  return stringify(document, { lineWidth: 0 });
}
