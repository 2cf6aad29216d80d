/**
 * The cluster file's `kubeadmConfigPatches`, as kind's: RFC 7386 JSON merge patches on the rendered kubeadm
 * configuration, each aimed at the documents of one kind (and apiVersion, when given). They are applied to the YAML
 * nodes, not to re-rendered objects, so what a patch leaves alone keeps its comments and quoting.
 */
import { isMap, parseAllDocuments, type Document, type YAMLMap } from 'yaml';
import { ExitCode, RootletError } from '../errors.js';

/** The kinds rootlet renders, which a patch may aim at. */
export const KUBEADM_PATCH_KINDS = [
  'InitConfiguration',
  'ClusterConfiguration',
  'JoinConfiguration',
  'KubeletConfiguration',
  'KubeProxyConfiguration',
] as const;

/** The kinds in each configuration rootlet renders: renderInitConfig's stream and renderJoinConfig's. */
export const KUBEADM_CONFIG_KINDS = {
  init: ['InitConfiguration', 'ClusterConfiguration', 'KubeletConfiguration', 'KubeProxyConfiguration'],
  join: ['JoinConfiguration'],
} as const satisfies Record<string, readonly (typeof KUBEADM_PATCH_KINDS)[number][]>;

export interface KubeadmPatch {
  /** The `kind` of the documents to patch. */
  kind: string;
  /** Only documents of this apiVersion too; any apiVersion when unset. */
  apiVersion?: string;
  /** An RFC 7386 merge patch: null deletes, objects merge recursively, everything else (arrays too) replaces. */
  patch: Record<string, unknown>;
}

/** Why a patch is refused; `path` is the offending key inside `patch`. */
export interface PatchRefusal {
  path: string[];
  message: string;
  hint: string;
}

const GATE = 'KubeletInUserNamespace';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * What a patch may not change: the selectors themselves, and what rootlet relies on to run rootless and to keep joins
 * safe. Pure, so the cluster file can point at the offending line before anything is rendered.
 */
export function kubeadmPatchRefusal(patch: KubeadmPatch): PatchRefusal | undefined {
  for (const key of ['apiVersion', 'kind'])
    if (key in patch.patch)
      return {
        path: [key],
        message: `a patch cannot change ${key}`,
        hint: `the documents to patch are chosen by the ${key} field beside patch:, not inside it`,
      };
  if (patch.kind === 'KubeletConfiguration' || patch.kind === 'KubeProxyConfiguration') {
    const gates = patch.patch.featureGates;
    if (gates === null || (gates !== undefined && !isObject(gates)))
      return {
        path: ['featureGates'],
        message: `featureGates cannot be replaced: it holds ${GATE}, which every rootlet node needs (nodes run in a user namespace)`,
        hint: 'patch single gates, as in featureGates: {SomeGate: true}',
      };
    if (isObject(gates) && GATE in gates && gates[GATE] !== true)
      return {
        path: ['featureGates', GATE],
        message: `feature gate ${GATE} cannot be off: every rootlet node runs in a user namespace`,
        hint: `remove ${GATE} from the patch`,
      };
  }
  if (patch.kind === 'InitConfiguration' && 'bootstrapTokens' in patch.patch)
    return {
      path: ['bootstrapTokens'],
      message: 'bootstrapTokens cannot be patched: rootlet generates a short-lived token for each cluster and keeps it out of logs',
      hint: 'remove bootstrapTokens from the patch; later joins create their own short-lived token',
    };
  if (patch.kind === 'JoinConfiguration' && 'discovery' in patch.patch)
    return {
      path: ['discovery'],
      message: "discovery cannot be patched: rootlet pins every join to the cluster's CA with a short-lived token",
      hint: 'remove discovery from the patch',
    };
  return undefined;
}

/**
 * The patches for one of the configurations: a cluster file's list holds patches for both, and applyKubeadmPatches
 * refuses a patch that matches nothing in the stream it is given.
 */
export function kubeadmPatchesFor<P extends KubeadmPatch>(config: keyof typeof KUBEADM_CONFIG_KINDS, patches: readonly P[]): P[] {
  const kinds: readonly string[] = KUBEADM_CONFIG_KINDS[config];
  return patches.filter((patch) => kinds.includes(patch.kind));
}

function usage(code: string, message: string, hint: string): RootletError {
  return new RootletError(code, message, { exitCode: ExitCode.usage, hint });
}

function describePatch(patch: KubeadmPatch): string {
  return patch.apiVersion === undefined ? patch.kind : `${patch.kind} (${patch.apiVersion})`;
}

/** RFC 7386 on a YAML map, in place; `target` belongs to `document`, whose options new nodes take. */
function mergeInto(document: Document, target: YAMLMap, patch: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      target.delete(key);
      continue;
    }
    const current = target.get(key, true);
    if (isObject(value) && isMap(current)) mergeInto(document, current, value);
    else target.set(key, document.createNode(isObject(value) ? withoutNulls(value) : value, { aliasDuplicateObjects: false }));
  }
}

/** A patch object applied to nothing: RFC 7386 merges it into `{}`, which drops its nulls at every depth. */
function withoutNulls(patch: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(patch)
      .filter(([, value]) => value !== null)
      .map(([key, value]) => [key, isObject(value) ? withoutNulls(value) : value]),
  );
}

function field(document: Document, key: string): string | undefined {
  const value: unknown = document.get(key);
  return typeof value === 'string' ? value : undefined;
}

/**
 * Applies merge patches to a rendered kubeadm configuration stream (renderInitConfig, renderJoinConfig), in order, to
 * every document whose kind (and apiVersion when given) matches. A patch that matches nothing, or that kubeadmPatchRefusal
 * refuses, is a usage error. Give each stream only its own kinds' patches (kubeadmPatchesFor).
 */
export function applyKubeadmPatches(stream: string, patches: readonly KubeadmPatch[]): string {
  if (patches.length === 0) return stream;
  // Read as written: YAML 1.1, as kubeadm's go-yaml reads it (see yamlDocument in kubeadm-config.ts).
  const documents = parseAllDocuments(stream, { version: '1.1' });
  if (!Array.isArray(documents)) throw new Error('the kubeadm configuration stream is empty');
  for (const document of documents) {
    if (document.errors.length > 0) throw new Error(`the kubeadm configuration stream is not valid YAML: ${document.errors[0]!.message}`);
    if (!isMap(document.contents)) throw new Error('a kubeadm configuration document is not a mapping');
  }
  for (const patch of patches) {
    const refusal = kubeadmPatchRefusal(patch);
    if (refusal) throw usage('kubeadm-patch', `kubeadm config patch for ${describePatch(patch)}: ${refusal.path.join('.')}: ${refusal.message}`, refusal.hint);
    const targets = documents.filter(
      (document) => field(document, 'kind') === patch.kind && (patch.apiVersion === undefined || field(document, 'apiVersion') === patch.apiVersion),
    );
    if (targets.length === 0) {
      const present = documents.map((document) => `${field(document, 'kind') ?? '?'} (${field(document, 'apiVersion') ?? '?'})`).join(', ');
      throw usage(
        'kubeadm-patch',
        `kubeadm config patch for ${describePatch(patch)} matches no document; this configuration holds ${present}`,
        patch.apiVersion === undefined ? 'patch one of the kinds present' : 'leave out apiVersion, or give the apiVersion of a document present',
      );
    }
    for (const document of targets) mergeInto(document, document.contents as YAMLMap, patch.patch);
  }
  return documents
    .map((document) => {
      // The stream's own separators are written below, as yamlStream writes them.
      document.directives.docStart = null;
      return document.toString({ lineWidth: 0 });
    })
    .join('---\n');
}
