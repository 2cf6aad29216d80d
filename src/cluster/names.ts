/** Names of a cluster's engine objects and kubeconfig entries (DESIGN.md, "Contract"). */

export function controlPlaneName(cluster: string): string {
  return `${cluster}-control-plane`;
}

/** kind's naming: the first worker is `<cluster>-worker`, then `-worker2`, `-worker3`... */
export function workerName(cluster: string, index: number): string {
  return index === 1 ? `${cluster}-worker` : `${cluster}-worker${index}`;
}

export function workerNames(cluster: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => workerName(cluster, index + 1));
}

/** The engine network the cluster's nodes on one host share. */
export function networkName(cluster: string): string {
  return `rootlet-${cluster}`;
}

export function contextName(cluster: string): string {
  return `rootlet-${cluster}`;
}

/** The API server's URL at a host address and port (IPv6 in brackets), as kubeconfigs and status show it. */
export function apiServerUrl(address: string, port: number): string {
  return `https://${address.includes(':') ? `[${address}]` : address}:${port}`;
}
