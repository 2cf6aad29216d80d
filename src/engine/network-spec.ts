import { createHash } from 'node:crypto';
import type { EngineInfo } from './types.js';

export interface ApiRequest {
  method: 'POST';
  path: string;
  body: Record<string, unknown>;
}

/** A bridge interface name (at most 15 characters) that no other network or subnet shares. */
export function bridgeName(network: string, subnet: string): string {
  return `rl-${createHash('sha256').update(`${network} ${subnet}`).digest('hex').slice(0, 12)}`;
}

/**
 * The request that creates a cluster network with its own bridge name. Podman's CNI backend reuses bridge
 * names (cni-podmanN) and a removed network's bridge lingers in the rootless network namespace with its old
 * address, so the next network given that name cannot start a container; Podman 4's compat endpoint ignores
 * the bridge-name option, its libpod endpoint takes it.
 */
export function networkCreateRequest(engine: Pick<EngineInfo, 'kind'>, name: string, subnet: string, labels: Record<string, string>): ApiRequest {
  const bridge = bridgeName(name, subnet);
  if (engine.kind === 'podman') {
    return {
      method: 'POST',
      path: '/v4.0.0/libpod/networks/create',
      body: { name, driver: 'bridge', network_interface: bridge, subnets: [{ subnet }], labels },
    };
  }
  return {
    method: 'POST',
    path: '/networks/create',
    body: {
      Name: name,
      Driver: 'bridge',
      Labels: labels,
      IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] },
      Options: { 'com.docker.network.bridge.name': bridge },
      CheckDuplicate: true,
    },
  };
}
