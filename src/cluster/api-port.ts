import { createServer } from 'node:net';
import { ExitCode, RootletError } from '../errors.js';
import type { NodeState } from '../engine/types.js';

/** kubeadm's default, tried first; then the ports above it. */
const FIRST_CHOICE = 6443;
const SEARCH = 200;

/** Whether a TCP port can be bound on `address` of this machine right now. */
async function bindable(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * The host port the API server is published on: the one asked for (refused when taken), else 6443 or the next free
 * one. Ports other rootlet clusters recorded on their nodes count as taken even while those nodes are stopped, so
 * two clusters of one user never collide after a restart; so do the ports the cluster publishes besides (`reserved`).
 */
export async function pickApiServerPort(
  address: string,
  requested: number | undefined,
  otherClusters: readonly NodeState[],
  reserved: readonly number[] = [],
): Promise<number> {
  const recorded = new Set([...otherClusters.flatMap((node) => node.ports.map((port) => port.hostPort)), ...reserved]);
  if (requested !== undefined) {
    const owner = otherClusters.find((node) => node.ports.some((port) => port.hostPort === requested));
    if (owner || !(await bindable(address, requested)))
      throw new RootletError('port-taken', `port ${requested} on ${address} is taken${owner ? ` by cluster ${owner.cluster}` : ''}`, {
        exitCode: ExitCode.usage,
        hint: 'choose another --api-server-port, or leave it out and rootlet picks a free one',
      });
    return requested;
  }
  for (let port = FIRST_CHOICE; port < FIRST_CHOICE + SEARCH; port++) {
    if (!recorded.has(port) && (await bindable(address, port))) return port;
  }
  throw new RootletError('port-taken', `no free port for the API server on ${address} between ${FIRST_CHOICE} and ${FIRST_CHOICE + SEARCH - 1}`, {
    hint: 'free one, or pass --api-server-port',
  });
}
