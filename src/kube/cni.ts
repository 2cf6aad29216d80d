/**
 * Which CNI a cluster gets, decided once as data: the manifest to apply, where it came from, and the DaemonSets whose
 * pods must be Ready before the cluster is (kube-facts 5-6).
 */
import { isScalar, LineCounter, parseAllDocuments, parseDocument, type Document } from 'yaml';
import { ExitCode, RootletError } from '../errors.js';
import { kubernetesVersion } from './cluster-spec.js';
import { FLANNEL_DAEMONSET, FLANNEL_NAMESPACE, ipv4Cidr, ipv4CidrContains, renderFlannelManifest } from './flannel.js';

export type CniName = 'flannel' | 'antrea' | 'none';
export const CNI_NAMES: readonly CniName[] = ['flannel', 'antrea', 'none'];

export const ANTREA_VERSION = 'v2.7.0';
export const ANTREA_MANIFEST_URL = `https://github.com/antrea-io/antrea/releases/download/${ANTREA_VERSION}/antrea.yml`;
/**
 * The SHA-256 of the release asset at ANTREA_MANIFEST_URL. Unknown: the machine rootlet was written on had no internet,
 * and the asset is generated at release time (its images pinned to the tag), so it cannot be derived from the repository.
 * Until someone fills it in, rootlet does not download Antrea's manifest itself and checks nothing.
 */
export const ANTREA_MANIFEST_SHA256: string | undefined = undefined;

export interface DaemonSetRef {
  namespace: string;
  name: string;
}

export interface CniPlanInput {
  cni: CniName;
  /** `--cni-manifest FILE`: the manifest to apply instead of rootlet's, for air-gapped hosts or another version. */
  manifest?: { path: string; text: string };
  podSubnet: string;
  vxlanPort?: number;
  mtu?: number;
  kubernetesVersion: string;
}

export interface CniPlan {
  name: CniName;
  /** YAML for `kubectl apply -f -`; undefined for none. */
  manifest: string | undefined;
  source: 'rendered' | 'file' | 'none';
  /** The DaemonSets whose pods must be Ready on every node. */
  daemonSets: DaemonSetRef[];
  experimental: boolean;
  /** What the user should know before waiting on it, one line each. */
  notes: string[];
}

function usage(code: string, message: string, hint: string): RootletError {
  return new RootletError(code, message, { exitCode: ExitCode.usage, hint });
}

interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  data?: Record<string, unknown>;
}

interface ParsedManifest {
  documents: { document: Document; object: ManifestObject }[];
  daemonSets: DaemonSetRef[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The manifest's objects, each checked for what `kubectl apply` needs (apiVersion, kind, metadata.name). YAML 1.1 as
 * kubectl's go-yaml reads it. Errors carry file:line:col.
 */
function parseManifest(path: string, text: string): ParsedManifest {
  const lineCounter = new LineCounter();
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${path}:${line}:${col}`;
  };
  const invalid = (where: string, message: string, hint: string) => usage('cni-manifest', `${where}: ${message}`, hint);
  const documents: ParsedManifest['documents'] = [];
  for (const [index, document] of parseAllDocuments(text, { version: '1.1', lineCounter, prettyErrors: false }).entries()) {
    const [error] = document.errors;
    if (error) throw invalid(at(error.pos[0]), error.message, 'fix the YAML, or download the manifest again');
    let value: unknown;
    try {
      value = document.toJS();
    } catch (error) {
      // Aliases that resolve to nothing or expand without bound (a "billion laughs").
      throw invalid(at(document.contents?.range[0] ?? 0), error instanceof Error ? error.message : String(error), 'write the manifest without YAML aliases');
    }
    // A stream may hold empty documents (`---` at the start or the end, comments alone); kubectl skips them too.
    if (value === null || value === undefined || document.contents === null) continue;
    const where = at(document.contents.range[0]);
    const metadata = isRecord(value) ? value.metadata : undefined;
    const missing = !isRecord(value)
      ? 'is not a mapping'
      : typeof value.apiVersion !== 'string'
        ? 'has no apiVersion'
        : typeof value.kind !== 'string'
          ? 'has no kind'
          : !isRecord(metadata) || typeof metadata.name !== 'string'
            ? 'has no metadata.name'
            : undefined;
    if (missing !== undefined)
      throw invalid(where, `document ${index + 1} ${missing}`, 'every document must be a Kubernetes object with apiVersion, kind and metadata.name');
    documents.push({ document, object: value as ManifestObject });
  }
  const daemonSets = documents
    .filter(({ object }) => object.kind === 'DaemonSet')
    .map(({ object }) => ({ namespace: object.metadata.namespace ?? 'default', name: object.metadata.name }));
  if (daemonSets.length === 0)
    throw usage('cni-manifest', `${path}: no DaemonSet in the manifest`, "a CNI runs a DaemonSet on every node: give the CNI's full manifest");
  return { documents, daemonSets };
}

function configMapData(parsed: ParsedManifest, name: string, key: string) {
  for (const { document, object } of parsed.documents) {
    if (object.kind !== 'ConfigMap' || object.metadata.name !== name) continue;
    const node = document.getIn(['data', key], true);
    if (isScalar(node) && typeof node.value === 'string' && node.range) return { value: node.value, range: node.range };
  }
  return undefined;
}

/** A key of flannel's JSON, which Go's encoding/json matches without regard to case. */
function field(object: Record<string, unknown>, key: string): unknown {
  const found = Object.keys(object).find((candidate) => candidate.toLowerCase() === key.toLowerCase());
  return found === undefined ? undefined : object[found];
}

function shown(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The first ConfigMap with a net-conf.json: flannel's, whatever a custom manifest calls it. */
function findFlannelNetConf(parsed: ParsedManifest): { name: string; netConf: Record<string, unknown> } | undefined {
  for (const { object } of parsed.documents) {
    const text = object.kind === 'ConfigMap' ? object.data?.['net-conf.json'] : undefined;
    if (typeof text !== 'string') continue;
    try {
      const netConf: unknown = JSON.parse(text);
      if (isRecord(netConf)) return { name: object.metadata.name, netConf };
    } catch {
      // Not JSON: flanneld will say so in its log; nothing here to compare.
    }
  }
  return undefined;
}

/**
 * A user's flannel manifest is applied as it is. Its Network must hold the pod subnet (flannel refuses a node whose
 * podCIDR it does not contain); a port or MTU asked for but not in the file is worth a note, not an edit.
 */
function checkFlannelFile(input: CniPlanInput, path: string, parsed: ParsedManifest): string[] {
  const found = findFlannelNetConf(parsed);
  if (!found) return [`${path} has no ConfigMap with a net-conf.json: rootlet cannot check its Network against the pod subnet ${input.podSubnet}`];
  const { name, netConf } = found;
  const networkText = field(netConf, 'Network');
  const network = typeof networkText === 'string' ? ipv4Cidr(networkText) : undefined;
  const podSubnet = ipv4Cidr(input.podSubnet);
  if (network && podSubnet && !ipv4CidrContains(network, podSubnet))
    throw usage(
      'cni-manifest',
      `${path}: flannel's Network ${shown(networkText)} (ConfigMap ${name}) does not contain the pod subnet ${input.podSubnet}`,
      `set "Network" in its net-conf.json to ${input.podSubnet}`,
    );
  const backend = field(netConf, 'Backend');
  const port = isRecord(backend) ? field(backend, 'Port') : undefined;
  const mtu = isRecord(backend) ? field(backend, 'MTU') : undefined;
  const notes: string[] = [];
  if (input.vxlanPort !== undefined && port !== input.vxlanPort)
    notes.push(
      `${path} is applied as it is: its net-conf.json has Port ${port === undefined ? '8472 (kernel default)' : shown(port)}, not ${input.vxlanPort}; edit "Backend" there to change it`,
    );
  if (input.mtu !== undefined && mtu !== input.mtu)
    notes.push(
      `${path} is applied as it is: its net-conf.json has MTU ${mtu === undefined ? 'unset' : shown(mtu)}, not ${input.mtu}; edit "Backend" there to change it`,
    );
  return notes;
}

/**
 * antrea-agent.conf (a YAML file inside ConfigMap antrea-config) with `tunnelPort` set, by rewriting the line the release
 * manifest already has (`tunnelPort: 0`), so the rest of the file stays byte for byte as given. Undefined when there is
 * no such line or the result does not read back as asked.
 */
function withTunnelPort(path: string, text: string, parsed: ParsedManifest, port: number): { text: string; parsed: ParsedManifest } | undefined {
  const conf = configMapData(parsed, 'antrea-config', 'antrea-agent.conf');
  if (!conf) return undefined;
  const [start, end] = conf.range;
  const body = text.slice(start, end);
  const line = /^([ \t]+)tunnelPort:[ \t]*[^\s#]*/m;
  if (!line.test(body)) return undefined;
  const edited = text.slice(0, start) + body.replace(line, `$1tunnelPort: ${port}`) + text.slice(end);
  const reparsed = parseManifest(path, edited);
  const reread = configMapData(reparsed, 'antrea-config', 'antrea-agent.conf');
  const agentConf: unknown = reread && parseDocument(reread.value, { version: '1.1' }).toJS();
  return isRecord(agentConf) && agentConf.tunnelPort === port ? { text: edited, parsed: reparsed } : undefined;
}

function antreaPlan(input: CniPlanInput): CniPlan {
  if (!input.manifest)
    throw usage(
      'cni-manifest',
      `antrea needs its manifest as a file: rootlet does not have the checksum of Antrea ${ANTREA_VERSION}'s release manifest to fetch it safely`,
      `download ${ANTREA_MANIFEST_URL} and pass --cni-manifest FILE`,
    );
  const { path } = input.manifest;
  let text = input.manifest.text;
  let parsed = parseManifest(path, text);
  const notes = [
    'antrea is experimental in rootlet: it has not been seen working in rootless nodes (its agent is privileged and drives the Open vSwitch kernel datapath)',
    'antrea needs the openvswitch kernel module on every host, loaded before `up` (a rootless node cannot load it): sudo modprobe openvswitch',
    'rootlet waits for the antrea-agent DaemonSet; check the antrea-controller Deployment with kubectl -n kube-system get deploy antrea-controller',
  ];
  // The port applies to whichever tunnel the conf picks (Geneve by default). The MTU is left alone: Antrea's defaultMTU
  // is the pods' MTU, after the tunnel overhead, and Antrea derives it from the node interface's MTU itself.
  if (input.vxlanPort !== undefined) {
    const edited = withTunnelPort(path, text, parsed, input.vxlanPort);
    if (edited) ({ text, parsed } = edited);
    else
      notes.push(
        `${path}: no "tunnelPort:" line in antrea-agent.conf of ConfigMap antrea-config, so the tunnel port stays Antrea's default; set tunnelPort: ${input.vxlanPort} there`,
      );
  }
  return { name: 'antrea', manifest: text, source: 'file', daemonSets: parsed.daemonSets, experimental: true, notes };
}

/** What `up` installs as the cluster's network, and what it waits for. */
export function cniPlan(input: CniPlanInput): CniPlan {
  kubernetesVersion(input);
  // The name may come from a flag or a file that typing never saw.
  if (!CNI_NAMES.includes(input.cni)) throw usage('cni', `unknown CNI "${String(input.cni)}"`, `choose one of ${CNI_NAMES.join(', ')}`);
  switch (input.cni) {
    case 'none':
      if (input.manifest)
        throw usage(
          'cni-manifest',
          `--cni-manifest ${input.manifest.path} was given with --cni none`,
          'drop --cni-manifest, or choose --cni flannel or --cni antrea',
        );
      return {
        name: 'none',
        manifest: undefined,
        source: 'none',
        daemonSets: [],
        experimental: false,
        notes: ['no CNI: the nodes stay NotReady until you install a CNI, and `up` waits only for them to register'],
      };
    case 'flannel': {
      if (!input.manifest) {
        const options = { podSubnet: input.podSubnet, vxlanPort: input.vxlanPort, mtu: input.mtu };
        return {
          name: 'flannel',
          manifest: renderFlannelManifest(options),
          source: 'rendered',
          daemonSets: [{ namespace: FLANNEL_NAMESPACE, name: FLANNEL_DAEMONSET }],
          experimental: false,
          notes: [],
        };
      }
      const { path, text } = input.manifest;
      const parsed = parseManifest(path, text);
      const notes = checkFlannelFile(input, path, parsed);
      return { name: 'flannel', manifest: text, source: 'file', daemonSets: parsed.daemonSets, experimental: false, notes };
    }
    case 'antrea':
      return antreaPlan(input);
  }
}
