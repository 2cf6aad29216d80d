/**
 * `rootlet up`'s questions, asked only on a terminal when nothing else says what to make: no cluster file, no flags,
 * not CI. The answers become a cluster file, saved as ./rootlet.yaml when wanted, that `up` then merges as it merges
 * `-f FILE`. Every question is asked before any task starts (STYLE 10).
 */
import path from 'node:path';
import { ExitCode, RootletError, UsageError } from '../errors.js';
import {
  CLUSTER_API_VERSION,
  CLUSTER_KIND,
  ClusterFileSchema,
  MAX_WORKERS,
  type ClusterFile,
  type ClusterFileInput,
  type CniName,
} from '../config/cluster-file.js';
import { mergeClusterOptions, renderClusterFile } from '../config/load-cluster-file.js';
import { probeEngine } from '../engine/connect.js';
import { socketCandidates } from '../engine/discovery.js';
import { engineName } from '../engine/errors.js';
import type { EngineInfo } from '../engine/types.js';
import { HostFileError, type Host } from '../host/host.js';
import { shellLine } from '../host/shell-quote.js';
import { parseSshTarget, targetId } from '../host/ssh-target.js';
import { ANTREA_MANIFEST_URL } from '../kube/cni.js';
import type { Choice } from './prompts.js';
import { DEFAULT_CLUSTER_FILE } from './cluster-flags.js';
import { isCi } from '../cluster/progress.js';

/** Where the answers are saved, in the working directory. */
/** Where the answers are saved: the file `rootlet up` reads when given no -f. */
export const WIZARD_FILE = DEFAULT_CLUSTER_FILE;

type Env = Record<string, string | undefined>;

export interface AskConditions {
  /** The options the user gave on the command line (commander's value source "cli"), any at all. */
  given: readonly string[];
  yes: boolean;
  json: boolean;
  printConfig: boolean;
  stdinIsTTY: boolean;
  stderrIsTTY: boolean;
  env: Env;
}

/** Questions only for a person at a terminal who said nothing: any flag, a file, --yes, a pipe or CI means no. */
export function shouldAsk(conditions: AskConditions): boolean {
  const { given, yes, json, printConfig, stdinIsTTY, stderrIsTTY, env } = conditions;
  return given.length === 0 && !yes && !json && !printConfig && stdinIsTTY && stderrIsTTY && !isCi(env);
}

export interface WizardAnswers {
  workers: number;
  cni: CniName;
  /** Antrea's manifest, an absolute path: rootlet does not download it (see src/kube/cni.ts). */
  cniManifest?: string | undefined;
  /** Other hosts to join, each `[user@]host[:port]` as parseHostList accepted it. */
  hosts: readonly string[];
}

/** `[user@]host[:port]` words separated by commas or spaces; a usage error names the first bad one or a repeat. */
export function parseHostList(text: string): string[] {
  const words = text.split(/[\s,]+/).filter((word) => word !== '');
  const seen = new Map<string, string>();
  for (const word of words) {
    const id = targetId(parseSshTarget(word));
    const first = seen.get(id);
    if (first !== undefined) throw new UsageError(`${word} is the same host as ${first}`, 'list each host once');
    seen.set(id, word);
  }
  return words;
}

type HostEntryInput = NonNullable<ClusterFileInput['hosts']>[number];

/** A host as the cluster file lists it. A port only when written: without one, ~/.ssh/config's Port still applies. */
export function hostEntry(text: string): HostEntryInput {
  const { user, host, port } = parseSshTarget(text);
  const rest = text.slice(text.lastIndexOf('@') + 1);
  const portWritten = rest.startsWith('[') ? rest.includes(']:') : rest.split(':').length === 2;
  return { address: host, ...(user === undefined ? {} : { user }), ...(portWritten ? { port } : {}) };
}

/**
 * The cluster file the answers describe, only what was answered (the schema defaults the rest). With hosts, workers are
 * 0 (the schema allows no local workers beside them) and the advertise address is left to its default for hosts: the
 * address of this host's interface that routes to them, which needs no default route (auto would).
 */
export function wizardClusterFile(answers: WizardAnswers): ClusterFileInput {
  const hosts = answers.hosts.map(hostEntry);
  return {
    apiVersion: CLUSTER_API_VERSION,
    kind: CLUSTER_KIND,
    workers: hosts.length === 0 ? answers.workers : 0,
    cni: { name: answers.cni, ...(answers.cniManifest === undefined ? {} : { manifest: answers.cniManifest }) },
    ...(hosts.length === 0 ? {} : { hosts }),
  };
}

/** The saved file: what `up -f FILE --print-config` prints for it, under a line that says where it came from. */
export function renderWizardFile(file: ClusterFile): string {
  return `# From rootlet up's questions; start it with: rootlet up -f ${WIZARD_FILE} (rootlet schema lists every field)\n${renderClusterFile(mergeClusterOptions(file, {}))}`;
}

/**
 * The commands that start this cluster later. Without the saved file, hosts become `up --advertise-address auto` and a
 * `join` (a file's hosts give up the address to advertise; flags cannot list hosts).
 */
export function startCommands(
  answers: WizardAnswers,
  { savedAs, engineSocket }: { savedAs?: string | undefined; engineSocket?: string | undefined },
): string[] {
  const engine = engineSocket === undefined ? [] : ['--engine-socket', engineSocket];
  if (savedAs !== undefined) return [shellLine(['rootlet', 'up', '-f', savedAs, ...engine])];
  const up = [
    'rootlet',
    'up',
    ...(answers.workers > 0 && answers.hosts.length === 0 ? ['--workers', String(answers.workers)] : []),
    ...(answers.cni === 'flannel' ? [] : ['--cni', answers.cni]),
    ...(answers.cniManifest === undefined ? [] : ['--cni-manifest', answers.cniManifest]),
    ...(answers.hosts.length === 0 ? [] : ['--advertise-address', 'auto']),
    ...engine,
  ];
  if (answers.hosts.length === 0) return [shellLine(up)];
  return [shellLine(up), shellLine(['rootlet', 'join', ...engine, '--', ...answers.hosts])];
}

/** Every engine that answers on this host's usual sockets (CONTAINER_HOST, DOCKER_HOST, the user's), in the order up tries them. */
async function enginesFound(host: Host, env: Env): Promise<EngineInfo[]> {
  const candidates = socketCandidates({ env, uid: process.getuid?.() ?? 0 }).filter((candidate) => candidate.unusable === undefined);
  const probed = await Promise.all(candidates.map((candidate) => probeEngine(host, { explicit: candidate.path, env, timeoutMs: 3000 })));
  return probed.flatMap(({ engine }) => (engine === undefined ? [] : [engine.info]));
}

const CNI_CHOICES: ReadonlyArray<Choice<CniName>> = [
  { value: 'flannel', name: 'flannel', description: 'the default: VXLAN between the nodes, its manifest pinned by rootlet' },
  { value: 'antrea', name: 'antrea (experimental)', description: 'needs its release manifest as a file, and the openvswitch module on every host' },
  { value: 'none', name: 'none', description: 'install your own: the nodes stay NotReady until you do' },
];

export type WizardOutcome = { start: false } | { start: true; file: ClusterFile; engineSocket: string | undefined };

/**
 * Asks, saves ./rootlet.yaml if wanted, and says whether to start now. Ctrl-C in a question is exit 130: nothing is
 * created (a file saved before the last question stays).
 */
export async function runWizard(host: Host, env: Env, cwd: string): Promise<WizardOutcome> {
  // Loaded only here: inquirer is not worth its start-up time on the runs that ask nothing.
  const { askChoice, askText, askWholeNumber, askYesNo } = await import('./prompts.js');
  const say = (line: string) => process.stderr.write(`${line}\n`);
  say('No cluster file and no flags: a few questions first (Ctrl-C quits with nothing created; rootlet up --yes skips them).');

  const engines = await enginesFound(host, env);
  for (const info of engines)
    say(`Found ${engineName(info)}: ${info.kind} ${info.version}, ${info.rootless ? 'rootless' : 'runs as root (rootlet refuses it)'}.`);
  const rootless = engines.filter((info) => info.rootless);
  if (rootless.length === 0)
    say(
      `No ${engines.length === 0 ? '' : 'rootless '}Podman or Docker found on this host: the cluster needs one to start. Run rootlet doctor to see what is missing and how to fix it; you can still save the answers now.`,
    );
  const engine =
    rootless.length > 1
      ? await askChoice(
          'Which engine runs the nodes?',
          rootless.map((info) => ({ value: info, name: `${engineName(info)} (${info.kind} ${info.version})` })),
          rootless[0],
        )
      : rootless[0];
  // up takes the first engine that answers; another one is named.
  const engineSocket = engine !== undefined && engine !== engines[0] ? engine.socket : undefined;

  const workers = await askWholeNumber(`Worker nodes on this host (0 to ${MAX_WORKERS}; 0 to join other hosts instead)`, {
    min: 0,
    max: MAX_WORKERS,
    defaultAnswer: 0,
  });
  const cni = await askChoice('Pod network (CNI)', CNI_CHOICES, 'flannel');
  const cniManifest =
    cni === 'antrea'
      ? path.resolve(
          cwd,
          (
            await askText(`Antrea's manifest file (download ${ANTREA_MANIFEST_URL})`, async (text) => {
              if (text.trim() === '') return 'give the path of the downloaded antrea.yml';
              const info = await host.stat(path.resolve(cwd, text.trim())).catch(() => undefined);
              return info?.type === 'file' ? undefined : `${text.trim()} is not a file`;
            })
          ).trim(),
        )
      : undefined;
  const hosts =
    workers === 0
      ? parseHostList(
          await askText('Other hosts to join as workers over SSH, [user@]host[:port] separated by commas or spaces (empty: none)', (text) => {
            try {
              parseHostList(text);
              return undefined;
            } catch (error) {
              return error instanceof Error ? error.message : String(error);
            }
          }),
        )
      : [];
  const answers: WizardAnswers = { workers, cni, cniManifest, hosts };
  const file = ClusterFileSchema.parse(wizardClusterFile(answers));

  let savedAs: string | undefined;
  if (await askYesNo(`Save the answers as ./${WIZARD_FILE}?`, true)) {
    const target = path.resolve(cwd, WIZARD_FILE);
    if ((await host.stat(target)) === undefined || (await askYesNo(`./${WIZARD_FILE} exists: replace it?`, false))) {
      await host.writeFile(target, renderWizardFile(file), { mode: 0o644 }).catch((error: unknown) => {
        throw new RootletError('wizard-save', `cannot save ./${WIZARD_FILE}: ${error instanceof HostFileError ? error.message : String(error)}`, {
          exitCode: ExitCode.failure,
          hint: 'run rootlet up in a directory you can write to, or answer no to saving',
          cause: error,
        });
      });
      savedAs = WIZARD_FILE;
      say(`Saved ./${WIZARD_FILE}.`);
    } else say(`Kept the existing ./${WIZARD_FILE}.`);
  }

  const later = startCommands(answers, { savedAs, engineSocket }).join('   then: ');
  // With no engine, starting fails at once (exit 4, every socket tried): offered, but not as the default.
  if (await askYesNo('Start the cluster now?', engine !== undefined)) return { start: true, file, engineSocket };
  say(`Not started. To start it${engine === undefined ? ', once rootlet doctor passes' : ''}: ${later}`);
  return { start: false };
}
