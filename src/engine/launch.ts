import { UndoStack } from '../undo-stack.js';
import type { Engine } from './engine.js';
import { LABELS, type ClusterSettings, type NodeSpec, type NodeState } from './types.js';
import { waitForNode } from './wait-node.js';

export interface LaunchOptions {
  /** Chooses the network's subnet from the ones in use (see chooseSubnet). */
  chooseSubnet: (taken: string[]) => string | undefined;
  bootTimeoutMs: number;
  /** Keep what was created when something fails (--retain). */
  retain?: boolean;
  signal?: AbortSignal;
}

/**
 * Creates the cluster network and the nodes concurrently, starts them and waits for each to boot.
 * Everything this call created is removed again when any step fails or the signal aborts, unless retain.
 */
export async function launchNodes(engine: Engine, cluster: ClusterSettings, nodes: readonly NodeSpec[], options: LaunchOptions): Promise<NodeState[]> {
  const undo = new UndoStack();
  try {
    const network = await engine.ensureNetwork(cluster.network, { [LABELS.cluster]: cluster.name }, options.chooseSubnet);
    if (network.created) undo.push(`network ${network.name}`, () => engine.removeNetwork(network.name));
    // Every node's steps settle before anything is undone, so no creation still in flight is missed.
    const results = await Promise.allSettled(
      nodes.map(async (node) => {
        options.signal?.throwIfAborted();
        await engine.createNode(cluster, node);
        undo.push(`node ${node.name}`, () => engine.removeNode(node.name));
        await engine.startNode(node.name);
        await waitForNode(engine, node.name, { timeoutMs: options.bootTimeoutMs, ...(options.signal ? { signal: options.signal } : {}) });
        return (await engine.inspectNode(node.name))!;
      }),
    );
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
    undo.clear();
    return results.map((result) => (result as PromiseFulfilledResult<NodeState>).value);
  } catch (error) {
    if (!options.retain) await undo.unwind();
    throw error;
  }
}
