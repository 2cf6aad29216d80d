import { cidrRange } from '../engine/subnet.js';

/**
 * The fixed address of a cluster's node on its /24: the control plane (index 0) at .2, worker N at .2+N. The gateway
 * holds .1; nothing else allocates on a cluster's own network, so fixed and engine-chosen addresses never meet.
 */
export function nodeAddress(subnet: string, index: number): string {
  const range = cidrRange(subnet);
  if (!range) throw new Error(`not an IPv4 subnet: ${subnet}`);
  const value = range[0] + 2 + index;
  if (value >= range[1]) throw new Error(`subnet ${subnet} has no address for node ${index}`);
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}
