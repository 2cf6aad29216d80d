/**
 * YAML from a file anyone may have written, parsed within bounds: its size, its encoding, how deep it nests and how far
 * its aliases expand. Whatever the input, the answer is a value or a list of problems with positions, soon (yaml's
 * parser is superlinear on some inputs: the size limit keeps the worst we know near a second), never an exception of
 * the parser's own.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';

/**
 * A cluster file is a page or two of YAML (a hundred hosts with all their fields fit in 25 KiB): far past this it is a
 * mistake, or an attack on the parser, which takes about a second for 128 KiB of YAML written to be slow, four for 256.
 */
export const MAX_YAML_BYTES = 128 * 1024;
/** Problems listed at most: past a screenful they are the same mistake again, or an attack. */
export const MAX_PROBLEMS = 50;
/** How far aliases (*name) may expand, in nodes (yaml's maxAliasCount): enough to reuse a block, too few for a bomb. */
export const MAX_ALIAS_COUNT = 100;
/** Deeper than any cluster file needs (a kubeadm patch nests a handful of levels). */
export const MAX_DEPTH = 64;

export interface YamlProblem {
  line: number;
  col: number;
  /** Where in the document; empty for the text itself. */
  at: PropertyKey[];
  message: string;
  hint: string;
}

export type BoundedYaml =
  | { ok: true; document: Document.Parsed; value: unknown; lineCounter: LineCounter }
  /** The first MAX_PROBLEMS problems in file order, and how many there are. */
  | { ok: false; problems: YamlProblem[]; total: number };

/** yaml's messages that name its own API or say too little. */
const SYNTAX_MESSAGES: Record<string, string> = {
  MULTIPLE_DOCS: 'a second YAML document (after ---)',
  RESOURCE_EXHAUSTION: 'nested too deeply to read',
};

const SYNTAX_HINTS: Record<string, string> = {
  MULTIPLE_DOCS: 'keep one document: a cluster file describes one cluster',
  TAB_AS_INDENT: 'indent with spaces',
  TAG_RESOLVE_FAILED: 'remove the tag: a cluster file is plain YAML',
  RESOURCE_EXHAUSTION: `a cluster file nests a few levels, never more than ${MAX_DEPTH}`,
};

const TEXT_HINT = 'save the file as UTF-8 text';
/** What YAML allows in a stream (its c-printable set); anything else means a binary or mis-encoded file. */
const NOT_PRINTABLE = /[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;

/** 1-based line and column of a character offset, counted in the text itself (before a parser's LineCounter exists). */
function positionIn(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let at = text.indexOf('\n'); at !== -1 && at < offset; at = text.indexOf('\n', at + 1)) {
    line++;
    start = at + 1;
  }
  return { line, col: offset - start + 1 };
}

function decodes(bytes: Uint8Array, length: number, stream: boolean): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, length), { stream });
    return true;
  } catch {
    return false;
  }
}

/**
 * The offset of the first character that is not UTF-8. A streaming decoder refuses a prefix exactly when a bad byte
 * lies in it (an unfinished character at the end waits for the next chunk), so the shortest refused prefix ends at
 * the bad byte; when that byte broke an unfinished character, the character's first byte is the one to show.
 */
function firstBadCharacter(bytes: Uint8Array): number {
  let accepted = 0;
  let rejected = bytes.length;
  while (rejected - accepted > 1) {
    const middle = Math.floor((accepted + rejected) / 2);
    if (decodes(bytes, middle, true)) accepted = middle;
    else rejected = middle;
  }
  let start = rejected - 1;
  while (start > 0 && !decodes(bytes, start, false)) start--;
  return start;
}

function formatSize(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${Math.ceil(bytes / 1024)} KiB`;
}

function tooLarge(bytes: number): YamlProblem {
  return {
    line: 1,
    col: 1,
    at: [],
    message: `the file is ${formatSize(bytes)}: a cluster file is at most ${formatSize(MAX_YAML_BYTES)}`,
    hint: 'check that this is the cluster file you meant',
  };
}

/** A size past MAX_YAML_BYTES as a problem, for callers that know the size before reading (Host.stat, a stream). */
export function sizeProblem(bytes: number): YamlProblem | undefined {
  return bytes > MAX_YAML_BYTES ? tooLarge(bytes) : undefined;
}

function decoded(content: string | Uint8Array): string | YamlProblem {
  if (typeof content === 'string') return Buffer.byteLength(content, 'utf8') > MAX_YAML_BYTES ? tooLarge(Buffer.byteLength(content, 'utf8')) : content;
  if (content.byteLength > MAX_YAML_BYTES) return tooLarge(content.byteLength);
  try {
    // A leading byte order mark is dropped, as YAML allows.
    return new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    const bad = firstBadCharacter(content);
    const before = new TextDecoder('utf-8').decode(content.subarray(0, bad));
    const byte = content[bad]!.toString(16).padStart(2, '0');
    return { ...positionIn(before, before.length), at: [], message: `byte 0x${byte} is not UTF-8: this is not a text file, or not in UTF-8`, hint: TEXT_HINT };
  }
}

/**
 * What the parser leaves to us, in one walk in document order: keys that repeat (yaml's own check is quadratic),
 * keys that are not plain scalars, aliases inside the node they name (a value without end), nesting past MAX_DEPTH.
 */
function structureProblems(document: Document.Parsed, position: (offset: number) => { line: number; col: number }): { problems: YamlProblem[]; total: number } {
  const problems: YamlProblem[] = [];
  let total = 0;
  const anchors = new Map<string, Node>();
  const open = new Set<Node>();
  const add = (node: { range?: readonly number[] | null | undefined }, at: PropertyKey[], message: string, hint: string) => {
    if (total++ < MAX_PROBLEMS) problems.push({ ...position(node.range?.[0] ?? 0), at, message, hint });
  };

  const walk = (node: unknown, at: PropertyKey[], depth: number): void => {
    if (!isAlias(node) && !isMap(node) && !isSeq(node) && !isScalar(node)) return;
    if (node.anchor) anchors.set(node.anchor, node);
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (target && open.has(target))
        add(node, at, `alias *${node.source} is inside the node it names: its value would never end`, `alias a node that does not hold *${node.source}`);
      return;
    }
    if (depth > MAX_DEPTH) {
      // The first few keys say where; the position says exactly.
      add(node, at.slice(0, 6), `nested deeper than ${MAX_DEPTH} levels`, SYNTAX_HINTS.RESOURCE_EXHAUSTION!);
      return;
    }
    if (isMap(node)) {
      open.add(node);
      const seen = new Map<string, number>();
      for (const pair of node.items) {
        const key = pair.key;
        if (!isScalar(key) || key.value === null) {
          add(
            isAlias(key) || isMap(key) || isSeq(key) || isScalar(key) ? key : node,
            at,
            'a key must be a plain name, not empty, a list, a mapping or an alias',
            'write the key as a name',
          );
          continue;
        }
        if (key.anchor) anchors.set(key.anchor, key);
        const value: unknown = key.value;
        const name = String(value);
        const first = seen.get(name);
        if (first === undefined) seen.set(name, key.range?.[0] ?? 0);
        else add(key, [...at, name], `is written twice (first on line ${position(first).line})`, 'keep one of the two');
        walk(pair.value, [...at, name], depth + 1);
      }
      open.delete(node);
    } else if (isSeq(node)) {
      open.add(node);
      node.items.forEach((item, index) => walk(item, [...at, index], depth + 1));
      open.delete(node);
    }
  };
  walk(document.contents, [], 0);
  return { problems, total };
}

/** The first alias's position: where an expansion past MAX_ALIAS_COUNT starts to matter. */
function firstAlias(document: Document.Parsed): number {
  let offset = 0;
  const find = (node: unknown): boolean => {
    if (isAlias(node)) {
      offset = node.range?.[0] ?? 0;
      return true;
    }
    if (isMap(node)) return node.items.some((pair) => find(pair.key) || find(pair.value));
    if (isSeq(node)) return node.items.some(find);
    return false;
  };
  find(document.contents);
  return offset;
}

/** Parses `content` (text, or bytes that must be UTF-8) within the bounds above. */
export function parseBoundedYaml(content: string | Uint8Array): BoundedYaml {
  const text = decoded(content);
  if (typeof text !== 'string') return { ok: false, problems: [text], total: 1 };
  const control = NOT_PRINTABLE.exec(text);
  if (control) {
    const code = control[0].codePointAt(0)!;
    const what =
      code === 0
        ? 'a NUL byte: this is a binary file, not YAML'
        : `control character U+${code.toString(16).toUpperCase().padStart(4, '0')}, which YAML does not allow`;
    return { ok: false, problems: [{ ...positionIn(text, control.index), at: [], message: what, hint: TEXT_HINT }], total: 1 };
  }

  const lineCounter = new LineCounter();
  // yaml makes an Error for each problem it finds; their stack traces were most of its time on a file of thousands.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let document: Document.Parsed;
  try {
    // uniqueKeys: structureProblems checks in linear time what yaml checks in quadratic; logLevel: no process warnings.
    document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false, logLevel: 'error' });
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  const position = (offset: number) => lineCounter.linePos(offset);
  const syntax = [...document.errors, ...document.warnings];
  if (syntax.length > 0)
    return {
      ok: false,
      problems: syntax.slice(0, MAX_PROBLEMS).map((error) => ({
        ...position(error.pos[0]),
        at: [],
        message: SYNTAX_MESSAGES[error.code] ?? error.message.split('\n')[0]!,
        hint: SYNTAX_HINTS[error.code] ?? 'fix the YAML there',
      })),
      total: syntax.length,
    };
  const structure = structureProblems(document, position);
  if (structure.total > 0) return { ok: false, ...structure };
  try {
    return { ok: true, document, value: document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), lineCounter };
  } catch (error) {
    // yaml throws a ReferenceError when aliases expand past maxAliasCount.
    if (!(error instanceof ReferenceError)) throw error;
    return {
      ok: false,
      problems: [
        {
          ...position(firstAlias(document)),
          at: [],
          message: `aliases expand to too much: rootlet limits aliases (*name) to ${MAX_ALIAS_COUNT} expanded nodes`,
          hint: 'write the values out instead of aliasing them',
        },
      ],
      total: 1,
    };
  }
}
