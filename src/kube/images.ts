/**
 * Images in a node's containerd (`rootlet load`): the names containerd gives them, the commands that import and
 * inspect them, and reading the answers. Pure: the effects are the caller's, through the engine's exec.
 */
import { z } from 'zod';

/** containerd's namespace of the kubelet's images. */
const NAMESPACE = '--namespace=k8s.io';

/**
 * The name containerd (and so the kubelet) uses for an image reference, as Docker's reference normalisation does:
 * `app:1` is `docker.io/library/app:1`, `me/app` is `docker.io/me/app:latest`, `localhost/app:1` and
 * `registry:5000/app` keep their domain. Podman names a local build `localhost/app:1`, so a pod asking for `app:1`
 * never finds it unless it is tagged under the normalised name as well.
 */
export function containerdName(reference: string): string {
  const at = reference.indexOf('@');
  const named = at === -1 ? reference : reference.slice(0, at);
  const digest = at === -1 ? '' : reference.slice(at);
  const slash = named.indexOf('/');
  const first = slash === -1 ? '' : named.slice(0, slash);
  const hasDomain = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost');
  let name = hasDomain ? named : `docker.io/${named}`;
  if (!hasDomain && slash === -1) name = `docker.io/library/${named}`;
  if (name.startsWith('docker.io/') && !name.slice('docker.io/'.length).includes('/')) name = `docker.io/library/${name.slice('docker.io/'.length)}`;
  // A tag is a ':' after the last '/'.
  const hasTag = name.lastIndexOf(':') > name.lastIndexOf('/');
  return `${name}${hasTag || digest !== '' ? '' : ':latest'}${digest}`;
}

/** Whether the kubelet's default pull policy for this image is Always (the tag is latest): a loaded copy is not used. */
export function pulledAlways(name: string): boolean {
  return !name.includes('@') && name.endsWith(':latest');
}

export function snapshotterArgv(): string[] {
  return ['containerd', 'config', 'dump'];
}

/**
 * The snapshotter the CRI plugin unpacks images with, from `containerd config dump`: containerd 2's
 * `[plugins.'io.containerd.cri.v1.images']`, or containerd 1's `[plugins."io.containerd.grpc.v1.cri".containerd]`.
 * An image imported into another snapshotter is invisible to the kubelet.
 */
export function parseSnapshotter(config: string): string | undefined {
  const sections = new Set([
    "plugins.'io.containerd.cri.v1.images'",
    'plugins."io.containerd.cri.v1.images"',
    'plugins."io.containerd.grpc.v1.cri".containerd',
  ]);
  let inSection = false;
  for (const raw of config.split('\n')) {
    const line = raw.trim();
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      inSection = sections.has(header[1]!.trim());
      continue;
    }
    const value = inSection ? /^snapshotter\s*=\s*(['"])([^'"]*)\1$/.exec(line) : null;
    if (value && value[2] !== '') return value[2];
  }
  return undefined;
}

/** Imports the archive on stdin into the kubelet's namespace, every platform, with the CRI's snapshotter (as kind does). */
export function importArgv(snapshotter: string): string[] {
  return ['ctr', NAMESPACE, 'images', 'import', '--all-platforms', '--digests', `--snapshotter=${snapshotter}`, '-'];
}

export function tagArgv(source: string, target: string): string[] {
  return ['ctr', NAMESPACE, 'images', 'tag', '--force', source, target];
}

export function inspectArgv(name: string): string[] {
  return ['crictl', 'inspecti', '-o', 'json', name];
}

const CrictlImage = z.object({ status: z.object({ id: z.string(), repoTags: z.array(z.string()).nullish() }) });

/** `crictl inspecti -o json`'s answer: the image id (hex, without sha256:) and its names; undefined when unreadable. */
export function parseInspect(stdout: string): { id: string; names: string[] } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  const parsed = CrictlImage.safeParse(json);
  if (!parsed.success) return undefined;
  return { id: parsed.data.status.id.replace(/^sha256:/, ''), names: parsed.data.status.repoTags ?? [] };
}

const ArchiveManifest = z.array(z.object({ Config: z.string(), RepoTags: z.array(z.string()).nullish() }));

/**
 * The images of a `docker save` / `podman save` archive, from its manifest.json: each one's id (the hex of its config
 * blob's name, `<hex>.json` or `blobs/sha256/<hex>`) and names. undefined when it is not such a manifest.
 */
export function archiveImages(manifest: string): Array<{ id: string; tags: string[] }> | undefined {
  let json: unknown;
  try {
    json = JSON.parse(manifest);
  } catch {
    return undefined;
  }
  const parsed = ArchiveManifest.safeParse(json);
  if (!parsed.success || parsed.data.length === 0) return undefined;
  const images: Array<{ id: string; tags: string[] }> = [];
  for (const entry of parsed.data) {
    const hex = /(?:^|\/)([a-f0-9]{64})(?:\.json)?$/.exec(entry.Config)?.[1];
    if (hex === undefined) return undefined;
    images.push({ id: hex, tags: entry.RepoTags ?? [] });
  }
  return images;
}
