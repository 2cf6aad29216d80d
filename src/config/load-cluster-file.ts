/**
 * Reading the cluster file: YAML with positions (yaml's LineCounter), validated by ClusterFileSchema, every problem
 * reported as `FILE:LINE:COL: path.to.field: message`; and the merge of the file with `rootlet up`'s flags.
 */
import path from 'node:path';
import { isMap, isScalar, isSeq, stringify, type Document, type Pair, type YAMLMap } from 'yaml';
import { z } from 'zod';
import { ExitCode, RootletError, UsageError } from '../errors.js';
import { MAX_PROBLEMS, parseBoundedYaml } from './bounded-yaml.js';
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

/**
 * Every problem of one cluster file. One problem is the message, its hint the hint; several are one line each under a
 * count, each `FILE:LINE:COL: path: message` with its hint on the next line, in file order.
 */
export class ClusterFileError extends RootletError {
  readonly file: string;
  readonly problems: readonly ClusterFileProblem[];

  /** `total`: how many there are, when `problems` holds only the first MAX_PROBLEMS. */
  constructor(file: string, problems: readonly ClusterFileProblem[], total = problems.length) {
    const [first] = problems;
    if (!first) throw new Error('a ClusterFileError needs a problem');
    const line = (problem: ClusterFileProblem) => `${file}:${problem.line}:${problem.col}: ${problem.path === '' ? '' : `${problem.path}: `}${problem.message}`;
    if (total === 1) super('cluster-file', line(first), { exitCode: ExitCode.usage, ...(first.hint === undefined ? {} : { hint: first.hint }) });
    else {
      const shown = problems.slice(0, MAX_PROBLEMS);
      const unshown = total - shown.length;
      super('cluster-file', `${file}: ${total} problems`, {
        exitCode: ExitCode.usage,
        hint: 'fix them all, then check the file with rootlet up --print-config -f FILE (it creates nothing)',
        details: [
          ...shown.flatMap((problem) => [line(problem), ...(problem.hint === undefined ? [] : [`  hint: ${problem.hint}`])]),
          ...(unshown === 0 ? [] : [`... and ${unshown} more`]),
        ],
      });
    }
    this.file = file;
    this.problems = problems.slice(0, MAX_PROBLEMS);
  }

  /** --json: the problems as a list, for editors and scripts. */
  override toJSON(): ReturnType<RootletError['toJSON']> & { file: string; problems: ClusterFileProblem[] } {
    return { ...super.toJSON(), file: this.file, problems: [...this.problems] };
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

/** The fields allowed beside an unknown one, and the nearest to it when it looks like a typo of one. */
function unknownField(parent: readonly PropertyKey[], key: string): { hint: string | undefined; near: string | undefined } {
  const allowed = Object.keys(objectAt(parent)?.shape ?? {});
  if (allowed.length === 0) return { hint: undefined, near: undefined };
  const near = allowed
    .map((field) => ({ field, distance: field.toLowerCase() === key.toLowerCase() ? 0 : editDistance(field, key) }))
    .filter(({ distance }) => distance <= Math.max(1, Math.floor(key.length / 4)))
    .sort((a, b) => a.distance - b.distance)[0]?.field;
  const where = parent.length === 0 ? 'at the top level' : `under ${formatPath(parent)}`;
  const merge = key === '<<' ? 'YAML merge keys (<<) are not read: write the fields out; ' : '';
  return { hint: `${merge}${near ? `did you mean ${near}? ` : ''}fields allowed ${where}: ${allowed.join(', ')}`, near };
}

interface Located {
  at: PropertyKey[];
  /** Point at the key rather than the value (an unknown field, a bad key). */
  atKey: boolean;
  /** Where to point instead when `at` is not written in the file (a defaulted value). */
  alsoAt: PropertyKey[] | undefined;
  message: string;
  hint: string | undefined;
  /** A required field that is not there. */
  missing: boolean;
  /** For an unknown field: the path of the field it looks like a typo of. */
  meant: PropertyKey[] | undefined;
}

function isPath(value: unknown): value is PropertyKey[] {
  return Array.isArray(value) && value.every((segment) => typeof segment === 'string' || typeof segment === 'number');
}

function located(issue: z.core.$ZodIssue): Located[] {
  const plain = { atKey: false, alsoAt: undefined, missing: false, meant: undefined };
  if (issue.code === 'unrecognized_keys')
    return issue.keys.map((key) => {
      const { hint, near } = unknownField(issue.path, key);
      return { ...plain, at: [...issue.path, key], atKey: true, message: issue.message, hint, meant: near === undefined ? undefined : [...issue.path, near] };
    });
  if (issue.code === 'invalid_key') return [{ ...plain, at: issue.path, atKey: true, message: issue.issues[0]?.message ?? issue.message, hint: undefined }];
  // The schema's own messages describe a wrong value; for no value at all, say so.
  const missing = (issue.code === 'invalid_type' || issue.code === 'invalid_value') && issue.input === undefined && issue.path.length > 0;
  const params: Record<string, unknown> = issue.code === 'custom' ? (issue.params ?? {}) : {};
  let hint = typeof params.hint === 'string' ? params.hint : undefined;
  const header = issue.path.length === 1 && (issue.path[0] === 'apiVersion' || issue.path[0] === 'kind');
  if (hint === undefined && (issue.path.length === 0 || (header && issue.input === undefined))) hint = START_HINT;
  else if (hint === undefined && issue.code === 'invalid_value' && issue.values.length === 1)
    hint = `write ${formatPath(issue.path)}: ${String(issue.values[0])}`;
  const depth = typeof params.depth === 'number' ? params.depth : 0;
  const alsoAt = isPath(params.alsoAt) ? [...issue.path.slice(0, issue.path.length - depth), ...params.alsoAt] : undefined;
  let message = missing ? 'is required' : issue.message;
  if (issue.code === 'invalid_type' && !missing && !message.includes(', not ') && !message.includes(`"${String(issue.input)}"`)) {
    // The schema's message says what is wanted; what was written tells a quoted number from a number.
    message = `${message}, not ${describeValue(issue.input)}`;
    if ((issue.expected === 'number' || issue.expected === 'int') && typeof issue.input === 'string' && /^\d+$/.test(issue.input.trim()))
      hint ??= `write the number without quotes: ${issue.input.trim()}`;
  }
  return [{ ...plain, at: issue.path, alsoAt, message, hint, missing }];
}

/**
 * The schema's problems, less a required field reported missing when an unknown field beside it is its typo: the
 * typo (with its "did you mean") is the one problem there.
 */
function schemaProblems(issues: readonly z.core.$ZodIssue[]): Located[] {
  const all = issues.flatMap(located);
  const meant = new Set(all.flatMap((problem) => (problem.meant ? [problem.meant.join('\0')] : [])));
  return all.filter((problem) => !(problem.missing && meant.has(problem.at.join('\0'))));
}

/** Each mapping's pairs by key, built once: finding every unknown key of a large mapping stays linear. */
const pairsByKey = new WeakMap<YAMLMap, Map<string, Pair>>();

function pairOf(map: YAMLMap, key: string): Pair | undefined {
  let index = pairsByKey.get(map);
  if (!index) {
    index = new Map();
    for (const pair of map.items) if (isScalar(pair.key) && !index.has(String(pair.key.value))) index.set(String(pair.key.value), pair);
    pairsByKey.set(map, index);
  }
  return index.get(key);
}

/** The offset of the deepest node of `at` written in the document, and whether all of `at` is written there. */
function resolve(document: Document, at: readonly PropertyKey[], atKey: boolean): { offset: number; complete: boolean } {
  let node: unknown = document.contents;
  let offset = isScalar(node) || isMap(node) || isSeq(node) ? (node.range?.[0] ?? 0) : 0;
  for (const [index, segment] of at.entries()) {
    let key: unknown;
    if (isMap(node)) {
      const pair = pairOf(node, String(segment));
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

export interface LoadOptions {
  /** What relative paths in the file (cni.manifest, hosts[].identity) are relative to; default: the file's directory. */
  baseDir?: string;
}

/**
 * The cluster file `file` (a path, or a name such as <stdin> with `baseDir`), whose content the caller read (through
 * Host): bytes must be UTF-8. Parsed within bounds (bounded-yaml.ts), validated, defaulted, with relative paths
 * resolved. Any problem is one ClusterFileError (exit code 2) listing every problem found.
 */
export function loadClusterFile(file: string, content: string | Uint8Array, options: LoadOptions = {}): ClusterFile {
  const parsed = parseBoundedYaml(content);
  if (!parsed.ok)
    throw new ClusterFileError(
      file,
      parsed.problems.map(({ at, ...problem }) => ({ ...problem, path: formatPath(at) })),
      parsed.total,
    );
  const { document, lineCounter, value } = parsed;
  if (document.contents === null) throw new ClusterFileError(file, [{ line: 1, col: 1, path: '', message: 'the file is empty', hint: START_HINT }]);

  const result = ClusterFileSchema.safeParse(value, { error: messages, reportInput: true });
  if (!result.success) {
    const problems = schemaProblems(result.error.issues).map((problem) => {
      const where = resolve(document, problem.at, problem.atKey);
      const instead = !where.complete && problem.alsoAt ? resolve(document, problem.alsoAt, false) : undefined;
      return instead?.complete ? { offset: instead.offset, at: problem.alsoAt!, problem } : { offset: where.offset, at: problem.at, problem };
    });
    problems.sort((a, b) => a.offset - b.offset);
    throw new ClusterFileError(
      file,
      problems.slice(0, MAX_PROBLEMS).map(({ offset, at, problem }) => ({
        ...lineCounter.linePos(offset),
        path: formatPath(at),
        message: problem.message,
        ...(problem.hint === undefined ? {} : { hint: problem.hint }),
      })),
      problems.length,
    );
  }
  // Paths in the file are relative to its directory (~/ stays for the reader to expand).
  const baseDir = options.baseDir ?? path.dirname(file);
  const fromFile = (relative: string) => (path.isAbsolute(relative) || relative.startsWith('~/') ? relative : path.join(baseDir, relative));
  const manifest = result.data.cni.manifest;
  return {
    ...result.data,
    cni: manifest === undefined ? result.data.cni : { ...result.data.cni, manifest: fromFile(manifest) },
    hosts: result.data.hosts.map((entry) => (entry.identity === undefined ? entry : { ...entry, identity: fromFile(entry.identity) })),
    nodes: resolveMountPaths(result.data.nodes, baseDir),
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
    const problem = schemaProblems(result.error.issues)[0]!;
    const flag = given.get(problem.at.join('.')) ?? (problem.alsoAt && given.get(problem.alsoAt.join('.')));
    throw new UsageError(`${flag ?? formatPath(problem.at)}: ${problem.message}`, problem.hint ?? 'See rootlet --help for the accepted values.');
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
