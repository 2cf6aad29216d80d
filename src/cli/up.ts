import { z } from 'zod';
import { ExitCode } from '../errors.js';
import { upCluster, type UpResult } from '../cluster/up.js';
import { loadClusterFileFrom, clusterFlags, engineChoiceFlags, ignoreCheckFlag, progressFlags, progressOf } from './cluster-flags.js';
import { mergeClusterOptions, renderClusterFile } from '../config/load-cluster-file.js';
import { DEFAULT_CLUSTER_NAME } from '../config/cluster-file.js';
import { LocalHost } from '../host/local-host.js';
import { withInterrupt } from './interrupt.js';
import { colorFor, printJson } from './output.js';
import { joinCleanup, joinTargets, renderJoin, runJoin } from './join.js';
import { engineFor } from '../cluster/engine-choice.js';
import { joinExitCode } from '../cluster/join.js';
import { resolveAddress } from '../cluster/advertise.js';
import { parseOptions } from './parse-options.js';
import { runWizard, shouldAsk } from './wizard.js';

const Options = clusterFlags
  .extend(engineChoiceFlags.shape)
  .extend(progressFlags.shape)
  .extend({
    file: z.string().min(1).optional(),
    json: z.boolean().default(false),
    retain: z.boolean().default(false),
    skipDoctor: z.boolean().default(false),
    switch: z.boolean().default(true),
    // For the cluster file's hosts.
    identity: z.array(z.string().min(1)).default([]),
    sshConfig: z.string().min(1).optional(),
    acceptNewHostKeys: z.boolean().default(false),
    ignoreCheck: ignoreCheckFlag,
    printConfig: z.boolean().default(false),
    yes: z.boolean().default(false),
  });

function summary(result: UpResult): string {
  const workers = result.nodes.filter((node) => node.role === 'worker').length;
  const verb = result.initialized ? 'is up' : 'is up (reconciled: existing nodes kept)';
  const lines = [
    `Cluster ${result.cluster} ${verb}: 1 control plane, ${workers} worker${workers === 1 ? '' : 's'}; Kubernetes ${result.kubernetesVersion}, CNI ${result.cni}, ${result.engine}; ${result.seconds}s`,
    `  API server  ${result.apiServer}`,
    `  kubeconfig  context ${result.context} in ${result.kubeconfig}`,
    ...(result.advertiseAddress === undefined
      ? []
      : [
          `  other hosts join at ${result.advertiseAddress}: rootlet join${result.cluster === DEFAULT_CLUSTER_NAME ? '' : ` --name ${result.cluster}`} USER@HOST`,
        ]),
    `  pods with hostUsers: false  ${result.userNamespacedPods.ready ? 'can run' : 'cannot run'}: ${result.userNamespacedPods.reason}`,
    ...result.notes.map((note) => `  note: ${note}`),
    '',
    `Try:  kubectl --context ${result.context} get nodes`,
    `Stop: rootlet down --name ${result.cluster}`,
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * `rootlet up`: returns the exit code. `given` names the options the user wrote (not commander's defaults): with none,
 * on a terminal, the wizard asks what to make.
 */
export async function upCommand(raw: unknown, { given }: { given: readonly string[] }): Promise<number> {
  const options = parseOptions(Options, raw);
  const progress = progressOf(options);
  const host = new LocalHost();
  let file = await loadClusterFileFrom(host, options.file);
  let engineSocket = options.engineSocket;
  const ask = { given, ...options, stdinIsTTY: process.stdin.isTTY === true, stderrIsTTY: process.stderr.isTTY === true, env: process.env };
  // A ./rootlet.yaml found in the working directory is an answer too.
  if (file === undefined && shouldAsk(ask)) {
    const outcome = await runWizard(host, process.env, process.cwd());
    if (!outcome.start) return ExitCode.ok;
    file = outcome.file;
    engineSocket = outcome.engineSocket;
  }
  const cluster = mergeClusterOptions(file, options);
  if (options.printConfig) {
    process.stdout.write(renderClusterFile(cluster));
    return ExitCode.ok;
  }
  // The hosts to join are checked (and resolved) before anything starts: the advertise address routes towards them.
  const targets = await joinTargets(host, { args: [], entries: cluster.hosts, identity: options.identity, sshConfig: options.sshConfig });
  const peers = await Promise.all(targets.map(async (target) => target.advertiseAddress ?? (await resolveAddress(target.target.host))));
  const engineChoice = { socket: engineSocket, kind: options.engine, allowRootful: options.allowRootful };
  const result = await withInterrupt(
    (signal) =>
      upCluster({
        peers,
        ignoreChecks: options.ignoreCheck,
        host,
        cluster,
        engine: engineChoice,
        skipDoctor: options.skipDoctor,
        retain: options.retain,
        switchContext: options.switch,
        progress,
        signal,
        env: process.env,
      }),
    { cleanup: `run \`rootlet down --name ${cluster.name}\` (or, for a cluster that existed before, the same \`rootlet up\` again)` },
  );
  if (targets.length === 0) {
    if (options.json) printJson(result);
    else process.stdout.write(summary(result));
    return ExitCode.ok;
  }
  // The control plane is up and stays up whatever the hosts do: each host's outcome is reported on its own.
  const engine = await engineFor(host, engineChoice, process.env);
  const joined = await withInterrupt(
    (signal) =>
      runJoin({
        local: host,
        engine,
        cluster: cluster.name,
        targets,
        acceptNewHostKeys: options.acceptNewHostKeys,
        skipDoctor: options.skipDoctor,
        ignoreChecks: options.ignoreCheck,
        retain: options.retain,
        waitMs: cluster.waitMs,
        progress,
        signal,
      }),
    { cleanup: joinCleanup(cluster.name, targets) },
  );
  if (options.json) printJson({ ...result, join: joined });
  else process.stdout.write(`${summary(result)}\n${renderJoin(joined, colorFor(process.stdout))}`);
  return joinExitCode(joined);
}
