/**
 * Hostile and broken command lines through the built CLI (issue 7, "Bad input"): option-shaped and shell-shaped SSH
 * hosts, unknown engines, engine sockets that are no engine, image references and names with shell characters, numbers
 * and durations out of range. Each must end with its exit code, one `error:` line and a hint, no stack trace, within
 * a few seconds, and run nothing: the commands planted in the inputs would create marker files, and `sh`, `bash`,
 * `ssh` and `touch` on the PATH are shims that record any call.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { rootlet } from '../support/cli.js';
import { tally } from '../support/reliability.js';

/** Each input's planted command would create this file (one per test run, so runs never see each other's). */
const MARK = `/tmp/pwned-${process.pid}`;
const STACK = /^\s+at .*[:(]\d+|node:internal|\bError: .*\n\s+at /m;
/** Node starts, loads the bundle and refuses; a loaded machine of 2 CPUs running other tests included. */
const SOON_MS = 10_000;
/** The engine probe gives a silent socket 5 s (src/engine/connect.ts). */
const SILENT_SOCKET_MS = 15_000;

/** Known before the tests are collected: the cases name paths in it. */
const work = path.join(tmpdir(), `rootlet-hostile-${process.pid}`);
const shimLog = path.join(work, 'shim-calls.log');
const sockets = { garbage: path.join(work, 'garbage.sock'), http: path.join(work, 'http.sock'), silent: path.join(work, 'silent.sock') };
const servers: Server[] = [];
const connections: Socket[] = [];

/** A unix socket server that answers every connection with `reply` (or never, for undefined). */
async function listen(file: string, reply: string | undefined): Promise<void> {
  const server = createServer((connection) => {
    connections.push(connection);
    connection.on('error', () => undefined);
    if (reply === undefined) return;
    connection.once('data', () => connection.end(reply));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(file, resolve));
}

beforeAll(async () => {
  await mkdir(work, { mode: 0o700 });
  await Promise.all(['home', 'cwd', 'state', 'a-directory', 'shims'].map((dir) => mkdir(path.join(work, dir))));
  await writeFile(path.join(work, 'regular-file'), 'not a socket\n');
  for (const name of ['sh', 'bash', 'ssh', 'touch']) {
    const shim = path.join(work, 'shims', name);
    // A shim that records itself and its arguments: any call is an input that got executed.
    await writeFile(shim, `#!/usr/bin/env -S node\nrequire('fs').appendFileSync(${JSON.stringify(shimLog)}, JSON.stringify(process.argv.slice(1)) + '\\n');\n`);
    await chmod(shim, 0o755);
  }
  await listen(sockets.garbage, 'garbage\r\n\r\n\u0000\u00ff not HTTP at all');
  // Speaks HTTP, but no engine API: every path answers 200 with a body that is not what an engine says.
  await listen(sockets.http, 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\nConnection: close\r\n\r\n{"not":"it"}');
  await listen(sockets.silent, undefined);
});

afterAll(async () => {
  // The silent server's connections stay open until ended here: close() waits for them.
  for (const connection of connections) connection.destroy();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await rm(work, { recursive: true, force: true });
  await Promise.all(Array.from({ length: 40 }, (_, index) => rm(`${MARK}-${index}`, { force: true })));
});

interface Case {
  /** What the input is, in the tally and the test's name. */
  what: string;
  args: string[];
  exitCode: ExitCode;
  /** The one error line. */
  error: RegExp;
  withinMs?: number;
}

/** `--engine-socket` to nowhere: engine-bound commands fail on the engine (4) unless the input is refused first. */
const NO_ENGINE = ['--engine-socket', '/nonexistent/rootlet-test.sock'];
const INVALID_HOST = /^error: invalid SSH host ".*": .*; expected \[user@\]host\[:port\]/;

/** The cases; `n` numbers the marker file each planted command would create. */
function cases(): Case[] {
  let n = 0;
  const mark = () => `${MARK}-${n++}`;
  const hosts: Array<[string, string]> = [
    ['an ssh option as the host', `-oProxyCommand=touch ${mark()}`],
    ['a command after ;', `a;touch ${mark()}`],
    ['a $() substitution', `$(touch ${mark()})`],
    ['backticks', `\`touch ${mark()}\``],
    ['a newline and a second host', `host\nother;touch ${mark()}`],
    ['a port out of range', 'user@host:99999'],
    ['an empty host', ''],
    ['a user with a space and a command', `alice bob;touch ${mark()}@host`],
  ];
  const hostCases = hosts.flatMap(([what, host]): Case[] => [
    // `--` makes commander pass an option-shaped host through to rootlet's own check.
    { what: `join HOST: ${what}`, args: ['join', ...NO_ENGINE, '--', host], exitCode: ExitCode.usage, error: INVALID_HOST },
    { what: `doctor HOST: ${what}`, args: ['doctor', '--no-engine', '--', host], exitCode: ExitCode.usage, error: INVALID_HOST },
    {
      what: `down --host: ${what}`,
      args: ['down', ...NO_ENGINE, `--host=${host}`],
      exitCode: ExitCode.usage,
      // An empty --host is no value at all.
      error: host === '' ? /^error: --host: / : INVALID_HOST,
    },
  ]);
  return [
    ...hostCases,
    {
      what: 'join: an ssh option where the host goes, without --',
      args: ['join', `-oProxyCommand=touch ${mark()}`],
      exitCode: ExitCode.usage,
      error: /^error: unknown option '-oProxyCommand=/,
    },
    {
      what: 'up --engine nope',
      args: ['up', '--yes', '--engine', 'nope'],
      exitCode: ExitCode.usage,
      error: /^error: option '--engine <kind>' argument 'nope' is invalid/,
    },
    {
      what: 'doctor --engine nope',
      args: ['doctor', '--engine', 'nope'],
      exitCode: ExitCode.usage,
      error: /^error: option '--engine <kind>' argument 'nope' is invalid/,
    },
    ...(['status', 'up'] as const).flatMap((command): Case[] => {
      const args = (socket: string) => (command === 'up' ? ['up', '--yes', '--skip-doctor', '--engine-socket', socket] : ['status', '--engine-socket', socket]);
      const engineError = (why: string) => new RegExp(`^error: no rootless Podman or Docker answered; tried \\S+ \\(--engine-socket\\): ${why}`);
      return [
        {
          what: `${command} --engine-socket: a regular file`,
          args: args(path.join(work, 'regular-file')),
          exitCode: ExitCode.engine,
          error: engineError('a file, not a socket'),
        },
        {
          what: `${command} --engine-socket: a directory`,
          args: args(path.join(work, 'a-directory')),
          exitCode: ExitCode.engine,
          error: engineError('a directory, not a socket'),
        },
        {
          what: `${command} --engine-socket: a server answering garbage`,
          args: args(sockets.garbage),
          exitCode: ExitCode.engine,
          error: engineError('answers, but not in HTTP: not an engine API socket$'),
        },
        {
          what: `${command} --engine-socket: an HTTP server that is no engine`,
          args: args(sockets.http),
          exitCode: ExitCode.engine,
          error: engineError('answers HTTP, but not as a Docker or Podman API$'),
        },
        {
          what: `${command} --engine-socket: a server that never answers`,
          args: args(sockets.silent),
          exitCode: ExitCode.engine,
          error: engineError('no answer in time'),
          withinMs: SILENT_SOCKET_MS,
        },
      ];
    }),
    {
      what: 'status --engine-socket: a $() substitution',
      args: ['status', '--engine-socket', `$(touch ${mark()})`],
      exitCode: ExitCode.engine,
      error: /^error: no rootless Podman or Docker answered/,
    },
    {
      what: 'up --image with ; and a command',
      args: ['up', '--yes', ...NO_ENGINE, '--image', `x;touch ${mark()}`],
      exitCode: ExitCode.usage,
      error: /^error: --image: ".*" is not an image reference/,
    },
    {
      what: 'up --image with $()',
      args: ['up', '--yes', ...NO_ENGINE, '--image', `$(touch ${mark()})`],
      exitCode: ExitCode.usage,
      error: /^error: --image: ".*" is not an image reference/,
    },
    {
      what: 'up --image as an option',
      args: ['up', '--yes', ...NO_ENGINE, `--image=--privileged`],
      exitCode: ExitCode.usage,
      error: /^error: --image: "--privileged" is not an image reference/,
    },
    {
      what: 'up --name not a DNS label',
      args: ['up', '--yes', ...NO_ENGINE, '--name', 'Not_A_Label'],
      exitCode: ExitCode.usage,
      error: /^error: --name: "Not_A_Label" is not a DNS label/,
    },
    {
      what: 'up --name too long',
      args: ['up', '--yes', ...NO_ENGINE, '--name', 'a'.repeat(80)],
      exitCode: ExitCode.usage,
      error: /^error: --name: must be at most 40 characters/,
    },
    {
      what: 'up --name with unicode',
      args: ['up', '--yes', ...NO_ENGINE, '--name', 'dév'],
      exitCode: ExitCode.usage,
      error: /^error: --name: "dév" is not a DNS label/,
    },
    {
      what: 'up --name with a command',
      args: ['up', '--yes', ...NO_ENGINE, '--name', `x;touch ${mark()}`],
      exitCode: ExitCode.usage,
      error: /^error: --name: ".*" is not a DNS label/,
    },
    {
      what: 'down --name as an option',
      args: ['down', ...NO_ENGINE, '--name=-rf'],
      exitCode: ExitCode.usage,
      error: /^error: --name: "-rf" is not a DNS label/,
    },
    {
      what: 'kubeconfig --name as a path',
      args: ['kubeconfig', ...NO_ENGINE, '--name', '../../etc/passwd'],
      exitCode: ExitCode.usage,
      error: /^error: --name: ".*" is not a DNS label/,
    },
    {
      what: 'up --workers -1',
      args: ['up', '--yes', ...NO_ENGINE, '--workers=-1'],
      exitCode: ExitCode.usage,
      error: /^error: --workers: must be a whole number from 0 to 20$/,
    },
    {
      what: 'up --workers 1e3',
      args: ['up', '--yes', ...NO_ENGINE, '--workers', '1e3'],
      exitCode: ExitCode.usage,
      error: /^error: --workers: must be a whole number from 0 to 20$/,
    },
    {
      what: 'up --wait forever',
      args: ['up', '--yes', ...NO_ENGINE, '--wait', 'forever'],
      exitCode: ExitCode.usage,
      error: /^error: --wait: "forever" is not a duration/,
    },
    {
      what: 'up --wait longer than a day',
      args: ['up', '--yes', ...NO_ENGINE, '--wait', '9999h'],
      exitCode: ExitCode.usage,
      error: /^error: --wait: "9999h" is longer than 24h/,
    },
    {
      what: 'up --api-server-port 0',
      args: ['up', '--yes', ...NO_ENGINE, '--api-server-port', '0'],
      exitCode: ExitCode.usage,
      error: /^error: --api-server-port: must be a whole number from 1 to 65535$/,
    },
    {
      what: 'up --api-server-port 65536',
      args: ['up', '--yes', ...NO_ENGINE, '--api-server-port', '65536'],
      exitCode: ExitCode.usage,
      error: /^error: --api-server-port: must be a whole number from 1 to 65535$/,
    },
    {
      what: 'up --api-server-address with a command',
      args: ['up', '--yes', ...NO_ENGINE, '--api-server-address', `127.0.0.1;touch ${mark()}`],
      exitCode: ExitCode.usage,
      error: /^error: --api-server-address: ".*" is not an IP address/,
    },
    {
      what: 'up --cni with a command',
      args: ['up', '--yes', '--cni', `flannel;touch ${mark()}`],
      exitCode: ExitCode.usage,
      error: /^error: option '--cni <name>' argument/,
    },
    {
      what: 'doctor --user with a command',
      args: ['doctor', '--no-engine', '--user', `root;touch ${mark()}`],
      exitCode: ExitCode.usage,
      error: /^error: --user: /,
    },
  ];
}

// One at a time: the time limit is each command's own, not a share of a loaded machine's.
describe('hostile command lines: refused, one line, nothing run', () => {
  it.each(cases().map((input) => [input.what, input] as const))('%s', async (what, input) => {
    onTestFinished(({ task }) => tally('bad-input', `command line: ${what}`, task.result?.state === 'pass'));
    const started = performance.now();
    const result = await rootlet(input.args, {
      cwd: path.join(work, 'cwd'),
      env: {
        HOME: path.join(work, 'home'),
        XDG_STATE_HOME: path.join(work, 'state'),
        XDG_RUNTIME_DIR: path.join(work, 'state'),
        PATH: `${path.join(work, 'shims')}:${process.env.PATH}`,
        CONTAINER_HOST: undefined,
        DOCKER_HOST: undefined,
        SSH_AUTH_SOCK: undefined,
        CI: '1',
      },
      timeout: (input.withinMs ?? SOON_MS) + 5000,
    });
    const ms = performance.now() - started;
    const lines = result.stderr.split('\n').filter((line) => line !== '');
    expect(result.stderr).not.toMatch(STACK);
    expect(result.exitCode, result.stderr).toBe(input.exitCode);
    expect(
      lines.filter((line) => line.startsWith('error:')),
      result.stderr,
    ).toHaveLength(1);
    expect(lines.find((line) => line.startsWith('error:'))).toMatch(input.error);
    // rootlet's own hint, or commander's for what it refuses itself.
    expect(result.stderr).toMatch(/^(hint: \S.*|\(run with --help for usage\))$/m);
    expect(result.stdout).toBe('');
    expect(ms).toBeLessThan(input.withinMs ?? SOON_MS);
    for (const marker of input.args.join(' ').match(new RegExp(`${MARK}-\\d+`, 'g')) ?? []) expect(existsSync(marker), marker).toBe(false);
    expect(existsSync(shimLog) ? await readFile(shimLog, 'utf8') : '').toBe('');
  });
});
