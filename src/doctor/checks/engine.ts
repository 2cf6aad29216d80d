import { START_ENGINE_HINT } from '../../engine/discovery.js';
import { MINIMUM_VERSION, versionSupported } from '../../engine/engine-info.js';
import { engineName } from '../../engine/errors.js';
import type { EngineInfo } from '../../engine/types.js';
import { fileRemedy } from '../fix-steps.js';
import type { Check, CheckContext, CheckResult } from '../finding.js';
import { pass } from '../finding.js';

const SKIPPED: CheckResult = { status: 'skip', summary: 'not checked (--no-engine, or --sysroot: a tree has no running engine)', remedy: '' };
const UNREACHABLE: CheckResult = { status: 'skip', summary: 'no engine answered (see engine.reachable)', remedy: '' };

/** The engine the probe found, or the finding to report instead. */
function answered({ engine, noEngine }: CheckContext): EngineInfo | CheckResult {
  if (noEngine || !engine) return SKIPPED;
  return engine.engine?.info ?? UNREACHABLE;
}

function isInfo(value: EngineInfo | CheckResult): value is EngineInfo {
  return 'kind' in value;
}

export const engineReachable: Check = {
  id: 'engine.reachable',
  async run(ctx) {
    if (ctx.noEngine || !ctx.engine) return SKIPPED;
    const { engine, attempts } = ctx.engine;
    if (engine) return pass(`${engineName(engine.info)} answers (${engine.info.kind} ${engine.info.version})`);
    const tried = attempts.map(({ candidate, outcome }) => `${candidate.path}: ${outcome}`).join('; ');
    return { status: 'fail', summary: `no Podman or Docker answered; tried ${tried}`, remedy: START_ENGINE_HINT };
  },
};

export const engineRootless: Check = {
  id: 'engine.rootless',
  async run(ctx) {
    const info = answered(ctx);
    if (!isInfo(info)) return info;
    if (info.rootless) return pass(`${engineName(info)} runs rootless (${info.rootlessNetwork} networking, ${info.storageDriver} storage)`);
    return {
      status: ctx.allowRootful ? 'warn' : 'fail',
      summary: `${engineName(info)} runs as root: its containers would give the cluster root on this host${ctx.allowRootful ? ' (allowed by --allow-rootful)' : ''}`,
      remedy:
        'run the engine as your user: systemctl --user enable --now podman.socket, or dockerd-rootless-setuptool.sh install; then point rootlet at it (--engine-socket or DOCKER_HOST)',
    };
  },
};

export const engineVersion: Check = {
  id: 'engine.version',
  async run(ctx) {
    const info = answered(ctx);
    if (!isInfo(info)) return info;
    const minimum = MINIMUM_VERSION[info.kind].join('.');
    if (versionSupported(info)) return pass(`${info.kind} ${info.version} (rootlet needs ${minimum} or newer)`);
    return {
      status: 'fail',
      summary: `${info.kind} ${info.version} is older than ${minimum}`,
      remedy:
        info.kind === 'podman'
          ? 'install Podman 4 or newer from your distribution (Debian 12, Ubuntu 24.04, Fedora 38+ ship it)'
          : 'install Docker 20.10 or newer (docker.io on Debian 12, or get.docker.com)',
    };
  },
};

const SLIRP_CONF = '~/.config/containers/containers.conf.d/slirp4netns.conf';

export const engineNetwork: Check = {
  id: 'engine.network',
  async run(ctx) {
    const info = answered(ctx);
    if (!isInfo(info)) return info;
    const observed = `${info.kind} networks through ${info.rootlessNetwork} (${info.networkBackend} backend)`;
    if (info.kind === 'podman' && info.rootlessNetwork === 'pasta') {
      return {
        status: 'warn',
        summary: `${observed}: with pasta, flannel cannot reach the API server across hosts (Usernetes documents the i/o timeout)`,
        remedy: `as ${ctx.user}: ${fileRemedy(SLIRP_CONF, '[network]\ndefault_rootless_network_cmd = "slirp4netns"\n')}; then restart the podman service (systemctl --user restart podman.socket)`,
      };
    }
    return pass(observed);
  },
};
