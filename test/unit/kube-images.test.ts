import { describe, expect, it } from 'vitest';
import { archiveImages, containerdName, importArgv, parseInspect, parseSnapshotter, pulledAlways } from '../../src/kube/images.js';

const HEX = 'a'.repeat(64);

describe('containerdName', () => {
  it.each([
    ['app', 'docker.io/library/app:latest'],
    ['app:1', 'docker.io/library/app:1'],
    ['me/app:1', 'docker.io/me/app:1'],
    ['docker.io/app:1', 'docker.io/library/app:1'],
    ['docker.io/me/app', 'docker.io/me/app:latest'],
    ['localhost/app:1', 'localhost/app:1'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
    ['registry.example/team/app:2.0', 'registry.example/team/app:2.0'],
    [`app@sha256:${HEX}`, `docker.io/library/app@sha256:${HEX}`],
    [`quay.io/app:1@sha256:${HEX}`, `quay.io/app:1@sha256:${HEX}`],
  ])('%s is %s', (reference, name) => {
    expect(containerdName(reference)).toBe(name);
  });

  it('knows which names the kubelet pulls by default', () => {
    expect(pulledAlways(containerdName('app'))).toBe(true);
    expect(pulledAlways(containerdName('app:1'))).toBe(false);
    expect(pulledAlways(`docker.io/library/app@sha256:${HEX}`)).toBe(false);
  });
});

describe('parseSnapshotter', () => {
  it("reads containerd 2's CRI images section, quoted either way", () => {
    const dump = [
      'version = 3',
      "root = '/var/lib/containerd'",
      "[plugins.'io.containerd.cri.v1.runtime']",
      "  snapshotter = 'native'",
      "[plugins.'io.containerd.cri.v1.images']",
      "  snapshotter = 'fuse-overlayfs'",
      '  disable_snapshot_annotations = true',
    ].join('\n');
    expect(parseSnapshotter(dump)).toBe('fuse-overlayfs');
    expect(parseSnapshotter(dump.replaceAll("'", '"'))).toBe('fuse-overlayfs');
  });

  it("reads containerd 1's cri section, and nothing from other sections", () => {
    expect(parseSnapshotter('[plugins."io.containerd.grpc.v1.cri".containerd]\n  snapshotter = "overlayfs"\n')).toBe('overlayfs');
    expect(parseSnapshotter("[plugins.'io.containerd.snapshotter.v1.overlayfs']\n  snapshotter = 'x'\n")).toBeUndefined();
    expect(parseSnapshotter('')).toBeUndefined();
  });
});

describe('image commands and answers', () => {
  it('imports from stdin into the kubelet namespace with the snapshotter, as kind does', () => {
    expect(importArgv('overlayfs')).toEqual(['ctr', '--namespace=k8s.io', 'images', 'import', '--all-platforms', '--digests', '--snapshotter=overlayfs', '-']);
  });

  it("reads crictl inspecti's id without sha256: and its names", () => {
    expect(parseInspect(JSON.stringify({ status: { id: `sha256:${HEX}`, repoTags: ['docker.io/library/app:1'] }, info: {} }))).toEqual({
      id: HEX,
      names: ['docker.io/library/app:1'],
    });
    expect(parseInspect(JSON.stringify({ status: { id: HEX, repoTags: null } }))).toEqual({ id: HEX, names: [] });
    expect(parseInspect('E1204 no such image')).toBeUndefined();
    expect(parseInspect('{"status":{}}')).toBeUndefined();
  });

  it("reads the images of docker save's and podman save's manifest.json", () => {
    const manifest = JSON.stringify([
      { Config: `${HEX}.json`, RepoTags: ['localhost/app:1'], Layers: [] },
      { Config: `blobs/sha256/${'b'.repeat(64)}`, RepoTags: null, Layers: [] },
    ]);
    expect(archiveImages(manifest)).toEqual([
      { id: HEX, tags: ['localhost/app:1'] },
      { id: 'b'.repeat(64), tags: [] },
    ]);
    expect(archiveImages('[]')).toBeUndefined();
    expect(archiveImages('{"Config":"x"}')).toBeUndefined();
    expect(archiveImages(JSON.stringify([{ Config: 'config.json', RepoTags: [] }]))).toBeUndefined();
    expect(archiveImages('not json')).toBeUndefined();
  });
});
