/**
 * What rootlet pins, in one small module the entry can import without loading the rest (`rootlet --version` prints
 * it): the node image's Kubernetes version and base image, and the CNI versions.
 */

/** The Kubernetes version of the default node image (templates/node-image/Dockerfile's base). */
export const NODE_KUBERNETES_VERSION = 'v1.37.0';
/** kind's node image the default one is built from, by digest. */
export const NODE_BASE_IMAGE = 'docker.io/kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5';
export const FLANNEL_VERSION = 'v0.28.9';

/** `rootlet --version`: rootlet's own version on the first line (scripts read it), then the pins. */
export function versionText(version: string): string {
  return [version, `Kubernetes ${NODE_KUBERNETES_VERSION} (node image from ${NODE_BASE_IMAGE})`, `flannel ${FLANNEL_VERSION}`].join('\n');
}
