import { interrupted, isAbort, RootletError } from '../errors.js';
import { UndoStack } from '../undo-stack.js';
import type { Engine } from './engine.js';
import { LABELS, type ClusterSettings, type NodeSpec, type NodeState } from './types.js';
import { waitForNode } from './wait-node.js';

/** Failures of createNode that leave nothing of this run's behind. */
const NOT_CREATED = new Set(['name-taken', 'node-exists', 'volume-exists', 'etcd-published']);

export interface LaunchOptions {
  /** Chooses the network's subnet from the ones in use (see chooseSubnet). */
  chooseSubnet: (taken: string[]) => string | undefined;
  bootTimeoutMs: number;
  /** Keep what was created when something fails (--retain). */
  retain?: boolean;
  /**
   * The caller's undo stack: what this call creates is registered there and the caller unwinds it (when later steps
   * of the same command fail too). Without it, a failed launch undoes its own work.
   */
  undo?: UndoStack;
  /** Called when a node's container has started (before its boot is waited for). */
  onStarted?: (node: NodeSpec) => void;
  signal?: AbortSignal;
}

/**
 * Creates the cluster network and the nodes concurrently, starts them and waits for each to boot.
 * Everything this call created is removed again when any step fails or the signal aborts, unless retain.
 */
export async function launchNodes(engine: Engine, cluster: ClusterSettings, nodes: readonly NodeSpec[], options: LaunchOptions): Promise<NodeState[]> {
  const undo = options.undo ?? new UndoStack();
  try {
    const network = await engine.ensureNetwork(cluster.network, { [LABELS.cluster]: cluster.name }, options.chooseSubnet);
    if (network.created) undo.push(`network ${network.name}`, async () => void (await engine.removeNetwork(network.name)));
    // The first failure stops the others' waits; every node's steps settle before anything is undone.
    const stop = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    const results = await Promise.allSettled(
      nodes.map(async (node) => {
        try {
          signal.throwIfAborted();
          try {
            await engine.createNode(cluster, node);
          } catch (error) {
            // A create whose answer was lost may still have made the container; a name conflict made nothing of ours.
            if (!(error instanceof RootletError && NOT_CREATED.has(error.code))) undo.push(`node ${node.name}`, () => engine.removeNode(node.name));
            throw error;
          }
          undo.push(`node ${node.name}`, () => engine.removeNode(node.name));
          await engine.startNode(node.name);
          options.onStarted?.(node);
          await waitForNode(engine, node.name, { timeoutMs: options.bootTimeoutMs, signal, restartsBefore: 0, retained: options.retain === true });
          return (await engine.inspectNode(node.name))!;
        } catch (error) {
          stop.abort();
          throw isAbort(error) ? interrupted(error) : error;
        }
      }),
    );
    // Report the failure that stopped the others, not the interruptions it caused.
    const failures = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected').map((result) => result.reason as unknown);
    const first = failures.find((reason) => !(reason instanceof RootletError && reason.code === 'interrupted') || options.signal?.aborted) ?? failures[0];
    if (failures.length > 0) throw first;
    if (!options.undo) undo.clear();
    return results.map((result) => (result as PromiseFulfilledResult<NodeState>).value);
  } catch (error) {
    if (!options.retain && !options.undo) await undo.unwind();
    throw error;
  }
}
