import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { packArchive, type ArchiveEntry } from '../../src/engine/archive.js';
import type { Engine } from '../../src/engine/engine.js';

const DIR = path.resolve(import.meta.dirname, '../node-image');
/** test/node-image/lib: what the stand-in kubeadm, kubectl, API server, ctr and crictl share. */
const LIB_FILES = [
  'common.sh',
  'yaml.awk',
  'json.awk',
  'kubeadm-config.awk',
  'kubectl-apply.awk',
  'kubectl-get.awk',
  'images.sh',
  'reference.awk',
  'json-print.awk',
];
/** The stand-in API server's handlers (busybox httpd CGI). */
const CGI_SCRIPTS = ['healthz', 'cluster-info', 'register'];
/** busybox applets the stand-in's scripts and the tests use (nslookup, ps and kill: for looking into a node; tar and
 * zcat: the stand-in ctr reading image archives). */
const APPLETS = [
  'sh',
  'sleep',
  'mkdir',
  'cat',
  'echo',
  'ls',
  'readlink',
  'touch',
  'true',
  'false',
  'env',
  'id',
  'hostname',
  'grep',
  'printf',
  'rm',
  'test',
  '[',
  'wc',
  'head',
  'mount',
  'stat',
  'nc',
  'ulimit',
  'sysctl',
  'sha256sum',
  'awk',
  'sed',
  'cut',
  'tr',
  'httpd',
  'setsid',
  'date',
  'base64',
  'sort',
  'tail',
  'timeout',
  'mktemp',
  'mv',
  'cp',
  'chmod',
  'basename',
  'dirname',
  'uname',
  'nslookup',
  'kill',
  'ps',
  'tar',
  'zcat',
];

/**
 * The build context of the stand-in node image: test/node-image/Dockerfile plus a rootfs of Debian's static
 * busybox and the stand-in scripts. No registry is reachable here, so the image is built, never pulled.
 */
export async function standinContext(): Promise<{ context: Buffer; tag: string }> {
  const busybox = await readFile('/bin/busybox').catch(() => {
    throw new Error('/bin/busybox is missing: install busybox-static (scripts/engines/provision.sh does)');
  });
  const script = async (name: string) => readFile(path.join(DIR, name));
  const dirs = [
    'bin',
    'sbin',
    'usr',
    'usr/bin',
    'usr/sbin',
    'usr/local',
    'usr/local/bin',
    'etc',
    'proc',
    'sys',
    'dev',
    'run',
    'tmp',
    'var',
    'root',
    'lib',
    'lib/modules',
    'kind',
    'usr/local/lib',
    'usr/local/lib/standin',
    'usr/local/lib/standin/www',
    'usr/local/lib/standin/www/cgi-bin',
    'usr/local/share',
    'usr/local/share/standin',
    'usr/local/share/standin/pki',
  ];
  // Image path <- file under test/node-image, with its mode.
  const files: Array<[string, string, number]> = [
    ['sbin/init', 'init', 0o755],
    ['usr/bin/systemctl', 'systemctl', 0o755],
    ['usr/bin/journalctl', 'journalctl', 0o755],
    ['usr/bin/kubeadm', 'kubeadm', 0o755],
    ['usr/bin/kubectl', 'kubectl', 0o755],
    ['usr/sbin/useradd', 'useradd', 0o755],
    ['usr/bin/getsubids', 'getsubids', 0o755],
    ['usr/bin/pkill', 'pkill', 0o755],
    ['usr/bin/pgrep', 'pkill', 0o755],
    ['usr/local/lib/standin/apiserver', 'apiserver', 0o755],
    // containerd's tools, in /usr/local/bin as kindest/node has them.
    ['usr/local/bin/ctr', 'ctr', 0o755],
    ['usr/local/bin/crictl', 'crictl', 0o755],
    ['usr/local/bin/containerd', 'containerd', 0o755],
    ...LIB_FILES.map((name): [string, string, number] => [`usr/local/lib/standin/${name}`, `lib/${name}`, 0o644]),
    ...CGI_SCRIPTS.map((name): [string, string, number] => [`usr/local/lib/standin/www/cgi-bin/${name}`, `www/cgi-bin/${name}`, 0o755]),
    ['usr/local/share/standin/pki/ca.crt', 'pki/ca.crt', 0o644],
    ['usr/local/share/standin/pki/ca.sha256', 'pki/ca.sha256', 0o644],
  ];
  const rootfs: ArchiveEntry[] = [
    ...dirs.map((name) => ({ type: 'directory' as const, name: `${name}/`, mode: name === 'tmp' ? 0o1777 : 0o755 })),
    { name: 'bin/busybox', content: busybox, mode: 0o755 },
    ...APPLETS.map((applet) => ({ type: 'symlink' as const, name: `bin/${applet}`, target: 'busybox' })),
    ...(await Promise.all(files.map(async ([name, source, mode]) => ({ name, content: await script(source), mode })))),
    // kindest/node carries its Kubernetes version here.
    { name: 'kind/version', content: 'v1.37.0\n' },
    { name: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\n' },
    { name: 'etc/group', content: 'root:x:0:\n' },
  ];
  const rootfsTar = await packArchive(rootfs);
  const dockerfile = await script('Dockerfile');
  const context = await packArchive([
    { name: 'Dockerfile', content: dockerfile },
    { name: 'rootfs.tar', content: rootfsTar },
  ]);
  // The tag names the content, so a changed stand-in is rebuilt and an unchanged one is reused.
  const tag = `localhost/rootlet-standin-node:${createHash('sha256').update(context).digest('hex').slice(0, 12)}`;
  return { context, tag };
}

export async function ensureStandinImage(engine: Engine): Promise<string> {
  const { context, tag } = await standinContext();
  if (!(await engine.hasImage(tag))) await engine.buildImage(context, tag);
  return tag;
}
