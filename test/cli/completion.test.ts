/**
 * `rootlet completion bash|zsh|fish`, run in the real shells (scripts/test-prereqs.sh installs zsh and fish): what a
 * TAB offers after the built CLI's commands, options and choices, and the cluster names of a HOME set up as rootlet
 * leaves it.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeIntoKubeconfig } from '../../src/cluster/kubeconfig-store.js';
import { saveLog } from '../../src/cluster/logs.js';
import { updateMembers } from '../../src/cluster/members.js';
import { LocalHost } from '../../src/host/local-host.js';
import { clusterKubeconfig, parseKubeconfig } from '../../src/kube/kubeconfig.js';
import { Transcript } from '../../src/kube/transcript.js';
import { ROOTLET, rootlet } from '../support/cli.js';

const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIC+jCCAeKgAwIBAgIBADANBgkqhkiG9w0BAQsFADAVMRMw==\n').toString('base64');
const ADMIN_CONF = `apiVersion: v1
kind: Config
clusters:
- cluster: {certificate-authority-data: ${CA}, server: 'https://x-control-plane:6443'}
  name: x
contexts:
- context: {cluster: x, user: kubernetes-admin}
  name: kubernetes-admin@x
current-context: kubernetes-admin@x
users:
- name: kubernetes-admin
  user: {client-certificate-data: ${CA}, client-key-data: ${CA}}
`;
const OTHER_TOOL = `apiVersion: v1
kind: Config
clusters:
- cluster: {server: 'https://127.0.0.1:7443'}
  name: kind-other
contexts:
- context: {cluster: kind-other, user: kind-other}
  name: kind-other
users:
- name: kind-other
  user: {token: abc}
`;

let dir: string;
let env: Record<string, string | undefined>;
const scripts: Record<string, string> = {};

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rootlet-completion-'));
  const home = path.join(dir, 'home');
  const state = path.join(dir, 'state');
  const bin = path.join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  // The scripts call `rootlet` from PATH, as they would once installed.
  await writeFile(path.join(bin, 'rootlet'), `#!/bin/sh\nexec node ${ROOTLET} "$@"\n`);
  await chmod(path.join(bin, 'rootlet'), 0o755);
  env = { HOME: home, XDG_STATE_HOME: state, KUBECONFIG: undefined, PATH: `${bin}:${process.env.PATH ?? ''}` };

  // What up leaves: a kubeconfig context per cluster (beside another tool's), a member list for a multi-host
  // cluster; a failed up's log alone names no cluster (everything else it created was removed).
  const host = new LocalHost();
  const kubeconfig = path.join(home, '.kube', 'config');
  await mkdir(path.dirname(kubeconfig), { recursive: true });
  await writeFile(kubeconfig, OTHER_TOOL);
  const admin = parseKubeconfig(ADMIN_CONF, 'admin.conf');
  for (const name of ['dev', 'ci-42'])
    await mergeIntoKubeconfig(host, kubeconfig, clusterKubeconfig(admin, { clusterName: name, server: 'https://127.0.0.1:6443' }), { switchContext: true });
  const member = { host: 'alice@node2:22', address: '10.0.0.2', node: 'lab-node2', engine: 'podman', identityFiles: [], joinedAt: '2026-01-01T00:00:00Z' };
  await updateMembers(host, env, 'lab', () => [member]);
  await saveLog(host, env, 'failed', 'up', new Transcript(), undefined, []);

  for (const shell of ['bash', 'zsh', 'fish']) {
    const result = await rootlet(['completion', shell]);
    expect(result.exitCode, result.stderr).toBe(0);
    scripts[shell] = path.join(dir, shell === 'zsh' ? 'fpath/_rootlet' : `rootlet.${shell}`);
    await mkdir(path.dirname(scripts[shell]), { recursive: true });
    await writeFile(scripts[shell], result.stdout);
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The commands `rootlet --help` lists. */
async function helpCommands(): Promise<string[]> {
  const help = (await rootlet(['--help'])).stdout;
  const section = help.slice(help.indexOf('\nCommands:\n'));
  return [...section.matchAll(/^ {2}(\S+)/gm)].map((match) => match[1]!);
}

/** What bash's completion function puts in COMPREPLY for these words (the last one is being completed). */
async function bash(...words: string[]): Promise<string[]> {
  const program = `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _rootlet; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = await execa('bash', ['--norc', '--noprofile', '-c', program, 'bash', scripts.bash!, ...words], { env, reject: false });
  expect(result.exitCode, result.stderr).toBe(0);
  return result.stdout.split('\n').filter((line) => line !== '');
}

/** What fish offers for a command line (`complete -C`), without the descriptions. */
async function fish(line: string): Promise<string[]> {
  const result = await execa('fish', ['--no-config', '-c', 'source $argv[1]; complete -C $argv[2]', scripts.fish!, line], { env, reject: false });
  expect(result.exitCode, result.stderr).toBe(0);
  return result.stdout
    .split('\n')
    .filter((entry) => entry !== '')
    .map((entry) => entry.split('\t')[0]!);
}

/**
 * What zsh's completion system offers when TAB is pressed after `line`, in an interactive zsh on a pseudo-terminal
 * (zsh/zpty) with the script in $fpath and compinit run: every compadd is also recorded with `compadd -O`, which
 * keeps the words that match what is typed.
 */
async function zsh(line: string, load: 'fpath' | 'source' = 'fpath'): Promise<string[]> {
  const zdotdir = path.join(dir, `zdotdir-${load}`);
  const out = path.join(dir, 'zsh-offered');
  await mkdir(zdotdir, { recursive: true });
  await writeFile(
    path.join(zdotdir, '.zshrc'),
    `PS1='ready> '
${load === 'fpath' ? `fpath=(${path.dirname(scripts.zsh!)} $fpath)` : ''}
autoload -Uz compinit && compinit -u -d ${zdotdir}/.zcompdump
${load === 'source' ? `source ${scripts.zsh!}` : ''}
compadd() {
  local -a offered
  builtin compadd -O offered "$@"
  (( $#offered )) && print -rl -- $offered >> ${out}
  builtin compadd "$@"
}
`,
  );
  await writeFile(out, '');
  const driver = `zmodload zsh/zpty
zpty shell env ZDOTDIR=${zdotdir} TERM=xterm zsh -i
zpty -r shell reply '*ready> '
zpty -w -n shell "$1"$'\\t'
zpty -w shell $'\\C-u''print $((40 + 2))-done'
zpty -r shell reply '*42-done*'
zpty -d shell`;
  const result = await execa('zsh', ['-f', '-c', driver, 'zsh', line], { env, reject: false, timeout: 30_000 });
  expect(result.exitCode, result.stderr).toBe(0);
  return [...new Set((await readFile(out, 'utf8')).split('\n').filter((word) => word !== ''))];
}

describe('rootlet completion bash', () => {
  it('offers every command of rootlet --help after rootlet', async () => {
    const commands = await helpCommands();
    expect(commands).toEqual(expect.arrayContaining(['doctor', 'up', 'join', 'down', 'status', 'completion']));
    expect((await bash('rootlet', '')).sort()).toEqual([...commands].sort());
    expect(await bash('rootlet', 'do')).toEqual(['doctor', 'down']);
  });

  it("offers up's long options, the program's too, and no other command's", async () => {
    const offered = await bash('rootlet', 'up', '--');
    expect(offered).toEqual(
      expect.arrayContaining(['--file', '--name', '--workers', '--cni', '--cni-manifest', '--wait', '--print-config', '--engine', '--verbose', '--help']),
    );
    expect(offered).not.toContain('--fix-script');
  });

  it('offers the choices of --cni and --engine, after a space or an =', async () => {
    expect(await bash('rootlet', 'up', '--cni', '')).toEqual(['flannel', 'antrea', 'none']);
    expect(await bash('rootlet', 'up', '--cni', '=', 'an')).toEqual(['antrea']);
    expect(await bash('rootlet', 'doctor', '--engine', 'p')).toEqual(['podman']);
    expect(await bash('rootlet', 'completion', '')).toEqual(['bash', 'zsh', 'fish']);
  });

  it('offers files after -f, and nothing after an option whose value is free', async () => {
    const files = path.join(dir, 'files');
    await mkdir(files, { recursive: true });
    await writeFile(path.join(files, 'lab.yaml'), 'name: lab\n');
    expect(await bash('rootlet', 'up', '-f', `${files}/la`)).toEqual([`${files}/lab.yaml`]);
    expect(await bash('rootlet', 'join', '--ssh-config', `${files}/`)).toEqual([`${files}/lab.yaml`]);
    expect(await bash('rootlet', 'up', '--workers', '')).toEqual([]);
  });

  it('offers the clusters named by the kubeconfig and the member lists after --name', async () => {
    expect(await bash('rootlet', 'up', '--name', '')).toEqual(['ci-42', 'dev', 'lab']);
    expect(await bash('rootlet', 'down', '--engine', 'podman', '--name', 'd')).toEqual(['dev']);
  });

  it('counts option values as such, not as arguments', async () => {
    // `--engine podman` is no host: after it, doctor still takes hosts, and `rootlet --verbose up` is up.
    expect(await bash('rootlet', 'doctor', '--engine', 'podman', '--')).toContain('--sysroot');
    expect(await bash('rootlet', '--verbose', 'up', '--wa')).toEqual(['--wait']);
    expect(await bash('rootlet', 'completion', 'bash', '')).not.toContain('zsh');
  });
});

describe('rootlet completion fish', () => {
  it('offers the commands, the options of a command and the choices of its options', async () => {
    expect((await fish('rootlet ')).sort()).toEqual((await helpCommands()).sort());
    expect(await fish('rootlet up --')).toEqual(expect.arrayContaining(['--file', '--cni', '--name', '--print-config', '--verbose']));
    expect((await fish('rootlet up --cni ')).sort()).toEqual(['antrea', 'flannel', 'none']);
    expect(await fish('rootlet doctor --engine p')).toEqual(['podman']);
  });

  it('offers files after --identity and cluster names after --name', async () => {
    const files = path.join(dir, 'keys');
    await mkdir(files, { recursive: true });
    await writeFile(path.join(files, 'id_lab'), '');
    expect(await fish(`rootlet join --identity ${files}/id`)).toEqual([`${files}/id_lab`]);
    expect(await fish('rootlet status --name ')).toEqual(['ci-42', 'dev', 'lab']);
  });
});

describe('rootlet completion zsh', () => {
  it('parses', async () => {
    const result = await execa('zsh', ['-n', scripts.zsh!], { reject: false });
    expect(result.exitCode, result.stderr).toBe(0);
  });

  it('offers the commands, the options of a command and the choices of its options', async () => {
    expect((await zsh('rootlet ')).sort()).toEqual((await helpCommands()).sort());
    expect(await zsh('rootlet up --')).toEqual(expect.arrayContaining(['--file', '--cni', '--name', '--print-config', '--verbose']));
    expect((await zsh('rootlet up --cni ')).sort()).toEqual(['antrea', 'flannel', 'none']);
    expect(await zsh('rootlet doctor --engine p')).toEqual(['podman']);
  });

  it('offers cluster names after --name', async () => {
    expect((await zsh('rootlet kubeconfig --name ')).sort()).toEqual(['ci-42', 'dev', 'lab']);
  });

  it('works sourced too (source <(rootlet completion zsh))', async () => {
    expect((await zsh('rootlet up --engine ', 'source')).sort()).toEqual(['docker', 'podman']);
  });
});

describe('rootlet completion', () => {
  it('refuses another shell with a one-line usage error naming the shells (exit 2)', async () => {
    const result = await rootlet(['completion', 'tcsh']);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    const error = result.stderr.split('\n').filter((line) => line.startsWith('error:'));
    expect(error).toHaveLength(1);
    expect(error[0]).toMatch(/tcsh.*bash, zsh, fish/);
  });

  it('says in --help where each shell finds the script', async () => {
    const result = await rootlet(['completion', '--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('rootlet completion bash > ~/.local/share/bash-completion/completions/rootlet');
    expect(result.stdout).toMatch(/rootlet completion zsh > \S+\/_rootlet/);
    expect(result.stdout).toContain('rootlet completion fish > ~/.config/fish/completions/rootlet.fish');
  });

  it('lists cluster names with a hidden command that asks no engine', async () => {
    // No engine socket can be reached from here: the names still come, from the files alone.
    const result = await rootlet(['__complete-names'], { env: { ...env, CONTAINER_HOST: 'unix:///nonexistent', DOCKER_HOST: 'unix:///nonexistent' } });
    expect(result).toEqual({ exitCode: 0, stdout: 'ci-42\ndev\nlab\n', stderr: '' });
    expect((await rootlet(['--help'])).stdout).not.toContain('__complete-names');
  });
});
