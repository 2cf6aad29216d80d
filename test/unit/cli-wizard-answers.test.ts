/** The pure part of `rootlet up`'s questions: when they are asked, and what their answers become. */
import { describe, expect, it } from 'vitest';
import { ClusterFileSchema } from '../../src/config/cluster-file.js';
import { loadClusterFile, mergeClusterOptions } from '../../src/config/load-cluster-file.js';
import { ExitCode } from '../../src/errors.js';
import { isCi } from '../../src/cluster/progress.js';
import { hostEntry, parseHostList, renderWizardFile, shouldAsk, startCommands, wizardClusterFile, type AskConditions } from '../../src/cli/wizard.js';
import { thrown } from '../support/thrown.js';

describe('isCi', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['false', false],
    ['FALSE', false],
    ['true', true],
    ['1', true],
    ['0', true],
    ['woodpecker', true],
  ])('CI=%j is CI: %s', (value, expected) => {
    expect(isCi({ CI: value })).toBe(expected);
  });
});

describe('shouldAsk', () => {
  const terminal: AskConditions = { given: [], yes: false, json: false, printConfig: false, stdinIsTTY: true, stderrIsTTY: true, env: {} };

  it('asks a person at a terminal who gave nothing', () => {
    expect(shouldAsk(terminal)).toBe(true);
    expect(shouldAsk({ ...terminal, env: { CI: 'false', TERM: 'xterm' } })).toBe(true);
  });

  it.each<[string, Partial<AskConditions>]>([
    ['a flag', { given: ['workers'] }],
    ['a cluster file', { given: ['file'] }],
    ['--yes', { yes: true }],
    ['--json', { json: true }],
    ['--print-config', { printConfig: true }],
    ['stdin not a terminal', { stdinIsTTY: false }],
    ['stderr not a terminal', { stderrIsTTY: false }],
    ['CI', { env: { CI: 'true' } }],
  ])('never asks with %s', (_what, change) => {
    expect(shouldAsk({ ...terminal, ...change })).toBe(false);
  });
});

describe('parseHostList', () => {
  it('splits on commas and spaces, keeping each host as written', () => {
    expect(parseHostList('  alice@node2, bob@[fd00::7]:2222 ,,carol@node3:22\tnode4 ')).toEqual([
      'alice@node2',
      'bob@[fd00::7]:2222',
      'carol@node3:22',
      'node4',
    ]);
    expect(parseHostList('')).toEqual([]);
    expect(parseHostList(' , ')).toEqual([]);
  });

  it('refuses a bad host with parseSshTarget’s words (exit 2)', () => {
    const error = thrown(() => parseHostList('alice@node2 bad@@x'));
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toContain('invalid SSH host "bad@@x"');
    expect(() => parseHostList('node2 -oProxyCommand=x')).toThrow(/invalid SSH host/);
  });

  it('refuses the same host twice, even written differently', () => {
    expect(() => parseHostList('alice@node2 alice@node2:22')).toThrow('alice@node2:22 is the same host as alice@node2');
    expect(parseHostList('alice@node2 bob@node2 alice@node2:2222')).toHaveLength(3);
  });
});

describe('hostEntry', () => {
  it.each([
    ['node2', { address: 'node2' }],
    ['alice@node2', { address: 'node2', user: 'alice' }],
    ['alice@node2:22', { address: 'node2', user: 'alice', port: 22 }],
    ['bob@[fd00::7]:2222', { address: 'fd00::7', user: 'bob', port: 2222 }],
    ['[fd00::7]', { address: 'fd00::7' }],
    ['dave@fe80::1%eth0', { address: 'fe80::1%eth0', user: 'dave' }],
  ])('%s', (text, expected) => {
    expect(hostEntry(text)).toEqual(expected);
  });
});

describe('wizardClusterFile', () => {
  it('writes only the answers; the schema defaults the rest', () => {
    const input = wizardClusterFile({ workers: 2, cni: 'flannel', hosts: [] });
    expect(input).toEqual({ apiVersion: 'rootlet.dev/v1alpha1', kind: 'Cluster', workers: 2, cni: { name: 'flannel' } });
    const options = mergeClusterOptions(ClusterFileSchema.parse(input), {});
    expect(options).toMatchObject({ name: 'rootlet', workers: 2, cni: { name: 'flannel' }, hosts: [] });
    expect(options.networking.advertiseAddress).toBeUndefined();
  });

  it('with hosts: no local workers, every host listed, valid as a cluster file', () => {
    const input = wizardClusterFile({ workers: 3, cni: 'none', hosts: ['alice@node2', 'bob@[fd00::7]:2222'] });
    expect(input.workers).toBe(0);
    const file = ClusterFileSchema.parse(input);
    expect(file.hosts).toEqual([
      { address: 'node2', user: 'alice', extraPortMappings: [], role: 'worker' },
      { address: 'fd00::7', user: 'bob', port: 2222, extraPortMappings: [], role: 'worker' },
    ]);
    // The hosts alone make it a cluster for several hosts: up advertises the address that routes to them.
    expect(mergeClusterOptions(file, {}).networking.advertiseAddress).toBeUndefined();
  });

  it('keeps Antrea’s manifest', () => {
    const file = ClusterFileSchema.parse(wizardClusterFile({ workers: 0, cni: 'antrea', cniManifest: '/srv/antrea.yml', hosts: [] }));
    expect(file.cni).toEqual({ name: 'antrea', manifest: '/srv/antrea.yml' });
  });
});

describe('renderWizardFile', () => {
  it('loads back as the same cluster, with a first line saying how to start it', () => {
    const file = ClusterFileSchema.parse(wizardClusterFile({ workers: 0, cni: 'antrea', cniManifest: '/srv/antrea.yml', hosts: ['carol@node3:22', 'node4'] }));
    const text = renderWizardFile(file);
    expect(text.split('\n')[0]).toMatch(/^# .*rootlet up -f rootlet\.yaml/);
    expect(mergeClusterOptions(loadClusterFile('/home/alice/rootlet.yaml', text), {})).toEqual(mergeClusterOptions(file, {}));
  });
});

describe('startCommands', () => {
  it('names the saved file', () => {
    expect(startCommands({ workers: 2, cni: 'none', hosts: [] }, { savedAs: 'rootlet.yaml' })).toEqual(['rootlet up -f rootlet.yaml']);
    expect(startCommands({ workers: 0, cni: 'flannel', hosts: ['node2'] }, { savedAs: 'rootlet.yaml', engineSocket: '/run/user/1000/docker.sock' })).toEqual([
      'rootlet up -f rootlet.yaml --engine-socket /run/user/1000/docker.sock',
    ]);
  });

  it('without a file, the flags that make the same cluster', () => {
    expect(startCommands({ workers: 0, cni: 'flannel', hosts: [] }, {})).toEqual(['rootlet up']);
    expect(startCommands({ workers: 2, cni: 'antrea', cniManifest: '/home/al ice/antrea.yml', hosts: [] }, {})).toEqual([
      "rootlet up --workers 2 --cni antrea --cni-manifest '/home/al ice/antrea.yml'",
    ]);
  });

  it('without a file, hosts are an up for several hosts and a join', () => {
    expect(startCommands({ workers: 0, cni: 'none', hosts: ['alice@node2', 'bob@[fd00::7]:2222'] }, { engineSocket: '/run/user/1000/docker.sock' })).toEqual([
      'rootlet up --cni none --advertise-address auto --engine-socket /run/user/1000/docker.sock',
      "rootlet join --engine-socket /run/user/1000/docker.sock -- alice@node2 'bob@[fd00::7]:2222'",
    ]);
  });
});
