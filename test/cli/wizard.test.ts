/**
 * `rootlet up`'s questions in a real terminal: the built CLI runs in a detached tmux session (its own server socket),
 * the test types the answers and reads the screen. Nothing here starts a cluster: every run declines to start, is
 * interrupted, or fails before the engine (no engine of its own, or doctor's checks).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { shellLine } from '../../src/host/shell-quote.js';
import { ROOTLET, rootlet } from '../support/cli.js';

const TMUX = '/usr/bin/tmux';
const WAIT_MS = 15_000;
const uid = process.getuid?.() ?? 0;
/** With CONTAINER_HOST and DOCKER_HOST unset and XDG_RUNTIME_DIR a fresh directory, the only engines left are here. */
const engineHere = ['podman/podman.sock', 'docker.sock'].some((socket) => existsSync(`/run/user/${uid}/${socket}`));

interface Session {
  name: string;
  dir: string;
  socket: string;
}

const sessions: Session[] = [];
let counter = 0;

afterEach(async () => {
  for (const session of sessions.splice(0)) {
    await execa(TMUX, ['-S', session.socket, 'kill-server'], { reject: false });
    await rm(session.dir, { recursive: true, force: true });
  }
});

async function tmux(session: Session, args: string[]): Promise<string> {
  const result = await execa(TMUX, ['-S', session.socket, '-f', '/dev/null', ...args]);
  return result.stdout;
}

/**
 * Runs `rootlet ARGS` in a new detached session in a fresh directory, as `sh -c`: `env` sets and unsets variables,
 * `redirect` adds shell redirections. The exit status lands in ./status; the pane stays open to be read.
 */
async function start(
  args: string[],
  { env = {}, redirect = '', clusterFile }: { env?: Record<string, string>; redirect?: string; clusterFile?: string } = {},
): Promise<Session> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rootlet-wizard-'));
  if (clusterFile !== undefined) await writeFile(path.join(dir, 'rootlet.yaml'), clusterFile);
  const session = { name: `rootlet-wizard-${process.pid}-${++counter}`, dir, socket: path.join(dir, 'tmux.sock') };
  sessions.push(session);
  const vars = Object.entries({ XDG_RUNTIME_DIR: dir, ...env }).map(([key, value]) => `${key}=${value}`);
  const command = `${shellLine(['env', '-u', 'CI', '-u', 'CONTAINER_HOST', '-u', 'DOCKER_HOST', '-u', 'NO_COLOR', ...vars, 'node', ROOTLET, ...args])}${redirect}; echo $? > status; exec sleep 600`;
  await tmux(session, ['new-session', '-d', '-s', session.name, '-x', '250', '-y', '60', '-c', dir, command]);
  return session;
}

/** The screen, wrapped lines joined. */
function screen(session: Session): Promise<string> {
  return tmux(session, ['capture-pane', '-p', '-J', '-t', session.name]);
}

async function poll<T>(what: string, session: Session, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no ${what} after ${WAIT_MS / 1000}s; the screen:\n${await screen(session)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until the screen shows `text` (a prompt), and returns the screen. */
function waitFor(session: Session, text: string | RegExp): Promise<string> {
  return poll(`${String(text)} on the screen`, session, async () => {
    const shown = await screen(session);
    return (typeof text === 'string' ? shown.includes(text) : text.test(shown)) ? shown : undefined;
  });
}

function exitStatus(session: Session): Promise<number> {
  return poll('exit status', session, async () => {
    const text = await readFile(path.join(session.dir, 'status'), 'utf8').catch(() => '');
    return text.endsWith('\n') ? Number(text) : undefined;
  });
}

const keys = (session: Session, ...names: string[]) => tmux(session, ['send-keys', '-t', session.name, ...names]);
const type = (session: Session, text: string) => tmux(session, ['send-keys', '-t', session.name, '-l', text]);

const INTRO = 'a few questions first';
const WORKERS = '? Worker nodes on this host';
const CNI = '? Pod network (CNI)';
const HOSTS = '? Other hosts to join as workers over SSH';
const SAVE = '? Save the answers as ./rootlet.yaml?';
const REPLACE = '? ./rootlet.yaml exists: replace it?';
const START = '? Start the cluster now?';

/** Past the engine: says what it found (with several rootless engines, takes the first offered). */
async function answerEngine(session: Session): Promise<string> {
  const shown = await waitFor(session, /\? Which engine runs the nodes\?|\? Worker nodes on this host/);
  if (shown.includes('? Which engine')) await keys(session, 'Enter');
  if (engineHere) expect(shown).toMatch(/Found (Podman|Docker) at/);
  else expect(shown).toContain('No Podman or Docker found on this host: the cluster needs one to start. Run rootlet doctor');
  return waitFor(session, WORKERS);
}

describe('rootlet up on a terminal, with no file and no flags', () => {
  it('asks, saves ./rootlet.yaml, and does not start when told not to', async () => {
    const session = await start(['up']);
    expect(await waitFor(session, INTRO)).toContain('No cluster file and no flags');
    await answerEngine(session);
    await keys(session, 'Enter'); // 0 workers: the default
    await waitFor(session, CNI);
    await keys(session, 'Down', 'Down', 'Enter'); // flannel, antrea, none
    await waitFor(session, HOSTS);
    await type(session, 'alice@node2, bob@[fd00::7]:2222 bad@@host');
    await keys(session, 'Enter');
    // Refused with parseSshTarget's words; the prompt stays for a correction.
    await waitFor(session, 'invalid SSH host "bad@@host"');
    for (let i = 0; i < ' bad@@host'.length; i++) await keys(session, 'BSpace');
    await keys(session, 'Enter');
    await waitFor(session, SAVE);
    await keys(session, 'Enter');
    await waitFor(session, START);
    await type(session, 'n');
    await keys(session, 'Enter');
    const shown = await waitFor(session, 'Not started.');
    expect(await exitStatus(session)).toBe(0);
    expect(shown).toContain('Saved ./rootlet.yaml.');
    expect(shown).toMatch(/To start it.*: rootlet up -f rootlet\.yaml/);

    const text = await readFile(path.join(session.dir, 'rootlet.yaml'), 'utf8');
    expect(parse(text)).toMatchObject({
      apiVersion: 'rootlet.dev/v1alpha1',
      kind: 'Cluster',
      name: 'rootlet',
      workers: 0,
      cni: { name: 'none' },
      hosts: [
        { address: 'node2', user: 'alice' },
        { address: 'fd00::7', user: 'bob', port: 2222 },
      ],
    });
    const printed = await rootlet(['up', '-f', 'rootlet.yaml', '--print-config'], { cwd: session.dir });
    expect(printed.exitCode, printed.stderr).toBe(0);
    // The saved file is what --print-config prints for it, under one comment line.
    expect(printed.stdout).toBe(text.slice(text.indexOf('\n') + 1));
  });

  it('asks before replacing a ./rootlet.yaml made while it asked, and keeps it on no', async () => {
    const session = await start(['up']);
    // Written once the questions are up: a ./rootlet.yaml there at the start is read instead of asking (below).
    await answerEngine(session);
    await writeFile(path.join(session.dir, 'rootlet.yaml'), '# mine\n');
    await type(session, '3');
    await keys(session, 'Enter');
    await waitFor(session, CNI);
    await keys(session, 'Enter');
    // Local workers: no question about other hosts.
    const shown = await waitFor(session, SAVE);
    expect(shown).not.toContain(HOSTS);
    await keys(session, 'Enter');
    await waitFor(session, REPLACE);
    await keys(session, 'Enter'); // the default: no
    await waitFor(session, START);
    await type(session, 'n');
    await keys(session, 'Enter');
    expect(await waitFor(session, 'Not started.')).toMatch(/Kept the existing \.\/rootlet\.yaml\.[\s\S]*To start it.*: rootlet up --workers 3/);
    expect(await exitStatus(session)).toBe(0);
    expect(await readFile(path.join(session.dir, 'rootlet.yaml'), 'utf8')).toBe('# mine\n');
  });

  it('Ctrl-C in a question exits 130 with nothing written', async () => {
    const session = await start(['up']);
    await answerEngine(session);
    await keys(session, 'Enter');
    await waitFor(session, CNI);
    await keys(session, 'C-c');
    expect(await exitStatus(session)).toBe(130);
    expect(await screen(session)).toContain('error: interrupted');
    expect(existsSync(path.join(session.dir, 'rootlet.yaml'))).toBe(false);
  });
});

// Without questions, up goes ahead: these runs must fail before creating anything, so only where no engine answers.
describe.skipIf(engineHere)('rootlet up never asks', () => {
  it.each([
    ['with CI set, on a terminal', { env: { CI: '1' } }],
    ['with CI=true', { env: { CI: 'true' } }],
    ['when stdin is not a terminal', { redirect: ' < /dev/null' }],
    ['when stderr is not a terminal', { redirect: ' 2> stderr' }],
  ])('%s', async (_what, options) => {
    const session = await start(['up'], options);
    const status = await exitStatus(session);
    const shown = `${await screen(session)}${await readFile(path.join(session.dir, 'stderr'), 'utf8').catch(() => '')}`;
    // Doctor (exit 3) or the engine (exit 4) stops it: there is no engine here.
    expect([3, 4], shown).toContain(status);
    expect(shown).toMatch(/error: /);
    expect(shown).not.toContain(INTRO);
    expect(shown).not.toContain(WORKERS);
  });

  it('with a ./rootlet.yaml in the working directory, which it reads instead', async () => {
    const session = await start(['up'], { clusterFile: 'apiVersion: rootlet.dev/v1alpha1\nkind: Cluster\nworkers: 1\n' });
    const status = await exitStatus(session);
    const shown = await screen(session);
    expect([3, 4], shown).toContain(status);
    expect(shown).toContain('using ./rootlet.yaml');
    expect(shown).not.toContain(INTRO);
  });

  it('with --yes', async () => {
    const session = await start(['up', '--yes']);
    const status = await exitStatus(session);
    const shown = await screen(session);
    expect([3, 4], shown).toContain(status);
    expect(shown).not.toContain(INTRO);
  });
});
