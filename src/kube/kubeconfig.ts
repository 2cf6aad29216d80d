/**
 * kubeconfig files as client-go reads and writes them (clientcmd v1): parsed, built from kubeadm's admin.conf, merged
 * into and removed from a user's file. Pure; reading and writing the file is src/cluster/kubeconfig-store.ts.
 */
import { LineCounter, parseDocument, stringify, type Document } from 'yaml';
import { z } from 'zod';
import { ExitCode, RootletError } from '../errors.js';

/** Every rootlet entry (cluster, user and context alike) is `rootlet-<cluster name>`, as kind's are `kind-<name>`. */
export const KUBECONFIG_ENTRY_PREFIX = 'rootlet-';

// Known fields are typed as client-go decodes them, so a file kubectl refuses is refused here too; fields client-go
// does not know, and those rootlet never looks into (exec, auth-provider, extensions), are kept as they are. Null is
// what Go decodes to the zero value, so it is accepted wherever a field is optional. Keys are listed in the order
// kubectl writes them (alphabetical), which is the order of every file rootlet creates.
const text = z.string().nullish();
const flag = z.boolean().nullish();
const extensions = z.array(z.looseObject({ name: z.string() })).nullish();
/** `user: null` or a missing `cluster:` is an empty struct to client-go. */
const section = <Schema extends z.ZodObject>(schema: Schema) => schema.nullish().transform((value) => value ?? schema.parse({}));
const list = <Item extends z.ZodType>(item: Item) =>
  z
    .array(item)
    .nullish()
    .transform((value) => value ?? []);

const Cluster = z.looseObject({
  'certificate-authority': text,
  'certificate-authority-data': text,
  'disable-compression': flag,
  extensions,
  'insecure-skip-tls-verify': flag,
  'proxy-url': text,
  server: text,
  'tls-server-name': text,
});

const AuthInfo = z.looseObject({
  as: text,
  'as-groups': z.array(z.string()).nullish(),
  'as-uid': text,
  'as-user-extra': z.record(z.string(), z.array(z.string())).nullish(),
  'auth-provider': z.looseObject({}).nullish(),
  'client-certificate': text,
  'client-certificate-data': text,
  'client-key': text,
  'client-key-data': text,
  exec: z.looseObject({}).nullish(),
  extensions,
  password: text,
  token: text,
  tokenFile: text,
  username: text,
});

const Context = z.looseObject({
  cluster: text,
  extensions,
  namespace: text,
  user: text,
});

const NamedCluster = z.looseObject({ cluster: section(Cluster), name: z.string().min(1) });
const NamedAuthInfo = z.looseObject({ name: z.string().min(1), user: section(AuthInfo) });
const NamedContext = z.looseObject({ context: section(Context), name: z.string().min(1) });

export const Kubeconfig = z
  .looseObject({
    apiVersion: z.literal('v1').nullish(),
    clusters: list(NamedCluster),
    contexts: list(NamedContext),
    'current-context': text,
    extensions,
    kind: z.literal('Config').nullish(),
    preferences: z.looseObject({}).nullish(),
    users: list(NamedAuthInfo),
  })
  .superRefine((config, context) => {
    // client-go refuses a file with two entries of one name ("duplicate name in list"); merging into it would pick one.
    for (const key of ['clusters', 'contexts', 'users'] as const) {
      const seen = new Set<string>();
      config[key].forEach((entry, index) => {
        if (seen.has(entry.name)) context.addIssue({ code: 'custom', path: [key, index, 'name'], message: `duplicate name "${entry.name}"` });
        seen.add(entry.name);
      });
    }
  });
export type Kubeconfig = z.output<typeof Kubeconfig>;
export type KubeconfigCluster = z.output<typeof NamedCluster>;
export type KubeconfigUser = z.output<typeof NamedAuthInfo>;
export type KubeconfigContext = z.output<typeof NamedContext>;

/** What client-go starts from when there is no file (and what an empty file is). */
export function emptyKubeconfig(): Kubeconfig {
  return { apiVersion: 'v1', clusters: [], contexts: [], 'current-context': '', kind: 'Config', preferences: {}, users: [] };
}

/** Thrown for a file that is not a kubeconfig; the caller knows what to tell the user to do about it. */
export class KubeconfigError extends RootletError {
  constructor(message: string, hint?: string, cause?: unknown) {
    super('kubeconfig-invalid', message, { ...(hint === undefined ? {} : { hint }), ...(cause === undefined ? {} : { cause }) });
  }
}

/**
 * Parses and checks a kubeconfig. Empty text is the empty kubeconfig, as for client-go. Errors read
 * `SOURCE: not a kubeconfig: LINE:COL: WHAT` (KubeconfigError, without a hint: the caller knows what the file is).
 */
export function parseKubeconfig(text: string, source: string): Kubeconfig {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const notKubeconfig = (offset: number | undefined, what: string) => {
    const where = offset === undefined ? '' : `${lineCounter.linePos(offset).line}:${lineCounter.linePos(offset).col}: `;
    return new KubeconfigError(`${source}: not a kubeconfig: ${where}${what}`);
  };
  const [syntax] = document.errors;
  if (syntax) throw notKubeconfig(syntax.pos[0], firstLine(syntax.message));
  const data: unknown = document.toJS({ maxAliasCount: 100 });
  if (data === null || data === undefined) return emptyKubeconfig();
  if (typeof data !== 'object' || Array.isArray(data)) throw notKubeconfig(document.contents?.range?.[0], 'expected a mapping at the top');
  const result = Kubeconfig.safeParse(data);
  if (result.success) return result.data;
  const [issue] = result.error.issues;
  if (!issue) throw notKubeconfig(undefined, result.error.message);
  const path = issue.path.filter((key) => typeof key !== 'symbol');
  throw notKubeconfig(offsetOf(document, path), `${pathText(path)}: ${issue.message}`);
}

/** Where the value at `path` (or, when it is missing, the nearest thing around it) starts in the text. */
function offsetOf(document: Document, path: Array<string | number>): number | undefined {
  for (let length = path.length; length >= 0; length--) {
    const node: unknown = length === 0 ? document.contents : document.getIn(path.slice(0, length), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return range[0];
  }
  return undefined;
}

function pathText(path: Array<string | number>): string {
  if (path.length === 0) return '(top)';
  return path.map((key, index) => (typeof key === 'number' ? `[${key}]` : index === 0 ? key : `.${key}`)).join('');
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

/** Cluster names are DNS labels: they name containers, networks and kubeconfig entries. */
const CLUSTER_NAME = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
const MAX_CLUSTER_NAME = 63;

export function checkClusterName(name: string): void {
  if (name.length > MAX_CLUSTER_NAME || !CLUSTER_NAME.test(name))
    throw new RootletError('cluster-name', `invalid cluster name "${name}": use lowercase letters, digits and '-', at most ${MAX_CLUSTER_NAME} characters`, {
      exitCode: ExitCode.usage,
      hint: 'choose a name like "dev" or "lab-2"',
    });
}

/** The name of a cluster's kubeconfig cluster, user and context entries. */
export function kubeconfigEntryName(clusterName: string): string {
  checkClusterName(clusterName);
  return `${KUBECONFIG_ENTRY_PREFIX}${clusterName}`;
}

export interface ClusterKubeconfigOptions {
  clusterName: string;
  /** Where this host reaches the API server: the published address, like `https://127.0.0.1:6443`. */
  server: string;
}

/** The fields of admin.conf that name files: they are paths inside the node, meaningless on the host. */
const FILE_FIELDS = ['certificate-authority', 'client-certificate', 'client-key', 'tokenFile'] as const;

/**
 * The cluster's own kubeconfig from the admin.conf kubeadm wrote in the control-plane node: its current context's
 * cluster and user, with the server replaced by the published address and the credentials kept, as one cluster, user
 * and context all named `rootlet-<clusterName>`, which is the current context.
 */
export function clusterKubeconfig(adminConf: Kubeconfig, { clusterName, server }: ClusterKubeconfigOptions): Kubeconfig {
  const name = kubeconfigEntryName(clusterName);
  checkServer(server);
  const contextName = adminConf['current-context'] || (adminConf.contexts.length === 1 ? adminConf.contexts[0]!.name : undefined);
  const context = adminConf.contexts.find((entry) => entry.name === contextName);
  if (!context) throw adminProblem(contextName ? `its current context "${contextName}" is not in it` : 'it has no current context');
  const cluster = adminConf.clusters.find((entry) => entry.name === context.context.cluster);
  if (!cluster) throw adminProblem(`its context "${context.name}" names cluster "${context.context.cluster ?? ''}", which is not in it`);
  const user = adminConf.users.find((entry) => entry.name === context.context.user);
  if (!user) throw adminProblem(`its context "${context.name}" names user "${context.context.user ?? ''}", which is not in it`);
  const fields: Record<string, unknown> = { ...cluster.cluster, ...user.user };
  const fileField = FILE_FIELDS.find((field) => typeof fields[field] === 'string' && fields[field] !== '');
  if (fileField) throw adminProblem(`it refers to a file in the node (${fileField}) instead of embedding the data`);
  return {
    apiVersion: 'v1',
    clusters: [{ cluster: { ...cluster.cluster, server }, name }],
    contexts: [{ context: { ...context.context, cluster: name, user: name }, name }],
    'current-context': name,
    kind: 'Config',
    preferences: {},
    users: [{ name, user: { ...user.user } }],
  };
}

function checkServer(server: string): void {
  let url: URL | undefined;
  try {
    url = new URL(server);
  } catch {
    url = undefined;
  }
  if (!url || url.protocol !== 'https:' || url.hostname === '' || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '')
    throw new RootletError('kubeconfig-server', `invalid API server address "${server}": expected https://HOST:PORT`);
}

function adminProblem(what: string): RootletError {
  return new RootletError('kubeconfig-admin', `the control plane's admin kubeconfig cannot be used: ${what}`, {
    hint: 'kubeadm init writes /etc/kubernetes/admin.conf in the control-plane node; run rootlet up again to recreate the cluster',
  });
}

export interface MergeOptions {
  /** Make the entry's context the current one (kind and `rootlet up` do by default). */
  switchContext: boolean;
}

/**
 * `existing` (undefined: no file yet) with the entry's clusters, users and contexts: same-named ones are replaced where
 * they stand, new ones appended, everything else (other entries, their order, unknown fields) kept. The current context
 * changes only with switchContext.
 */
export function mergeKubeconfig(existing: Kubeconfig | undefined, entry: Kubeconfig, { switchContext }: MergeOptions): Kubeconfig {
  const base = existing ?? emptyKubeconfig();
  const merged: Kubeconfig = {
    ...base,
    clusters: upsert(base.clusters, entry.clusters),
    contexts: upsert(base.contexts, entry.contexts),
    users: upsert(base.users, entry.users),
  };
  if (switchContext) merged['current-context'] = entryContext(entry);
  return merged;
}

/** The context an entry made by clusterKubeconfig() stands for. */
export function entryContext(entry: Kubeconfig): string {
  const name = entry['current-context'] || (entry.contexts.length === 1 ? entry.contexts[0]!.name : undefined);
  if (!name) throw new Error('a kubeconfig entry has one context, or a current context');
  return name;
}

function upsert<Entry extends { name: string }>(list: readonly Entry[], entries: readonly Entry[]): Entry[] {
  const result = [...list];
  for (const entry of entries) {
    const index = result.findIndex((candidate) => candidate.name === entry.name);
    if (index === -1) result.push(entry);
    else result[index] = entry;
  }
  return result;
}

/**
 * `existing` without the cluster, user and context named `rootlet-<clusterName>` (exactly those names: anything else
 * is the user's). The current context is cleared when it was that one, as kind does.
 */
export function removeFromKubeconfig(existing: Kubeconfig, clusterName: string): Kubeconfig {
  const name = kubeconfigEntryName(clusterName);
  const other = (entry: { name: string }) => entry.name !== name;
  return {
    ...existing,
    clusters: existing.clusters.filter(other),
    contexts: existing.contexts.filter(other),
    users: existing.users.filter(other),
    ...(existing['current-context'] === name ? { 'current-context': '' } : {}),
  };
}

/** Whether the kubeconfig has any entry named `rootlet-<clusterName>`. */
export function hasClusterEntries(config: Kubeconfig, clusterName: string): boolean {
  const name = kubeconfigEntryName(clusterName);
  return [config.clusters, config.contexts, config.users].some((list) => list.some((entry) => entry.name === name));
}

/**
 * YAML as kubectl reads it. YAML 1.1 rules, because client-go's YAML is 1.1: strings such as `on`, `yes` or
 * `2024-01-01` are quoted so they stay strings. No line folding and no anchors: every value is written whole. Lists unindented, as kubectl writes them.
 */
export function renderKubeconfig(config: Kubeconfig): string {
  return stringify(config, { version: '1.1', lineWidth: 0, aliasDuplicateObjects: false, indentSeq: false });
}
