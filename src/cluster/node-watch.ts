/**
 * One poller of `kubectl get nodes` on the control plane for every host of a join: each host waits for its node to
 * register, then to be Ready, without a kubectl process of its own every few hundred milliseconds (on a small
 * control plane, N hosts polling at once slowed every join down).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { interrupted, RootletError } from '../errors.js';
import { kubectlGet, type StepContext } from '../kube/node-steps.js';
import { evaluateReadiness } from '../kube/readiness.js';
import { formatDuration } from './readiness-wait.js';

export interface Taint {
  key: string;
  effect: string;
}

interface NodeItem {
  metadata?: { name?: string };
  spec?: { taints?: Array<{ key?: string; effect?: string }> };
}

interface Waiter {
  /** Settles the waiter when the node list says so; true when settled. */
  check(nodes: unknown): boolean;
  /** Only lists asked for after the waiter came: an older one may show a node since deleted and joined again. */
  since: number;
  deadline: number;
  expire(): void;
  reject(error: unknown): void;
}

const NO_PODS = { items: [] };

export class NodeWatch {
  readonly #ctx: StepContext;
  readonly #controlPlane: string;
  readonly #intervalMs: number;
  readonly #waiters = new Set<Waiter>();
  #polling = false;
  #last: unknown;

  constructor(ctx: StepContext, controlPlane: string, intervalMs = 300) {
    this.#ctx = ctx;
    this.#controlPlane = controlPlane;
    this.#intervalMs = intervalMs;
  }

  /** Resolves with the node's taints once it has registered with the API server. */
  registered(node: string, timeoutMs: number): Promise<Taint[]> {
    return this.#wait(
      timeoutMs,
      (resolve) => (nodes) => {
        const item = (nodes as { items?: NodeItem[] }).items?.find((candidate) => candidate.metadata?.name === node);
        if (!item) return false;
        resolve((item.spec?.taints ?? []).map((taint) => ({ key: taint.key ?? '', effect: taint.effect ?? '' })));
        return true;
      },
      () =>
        new RootletError('node-not-registered', `node ${node} joined but did not register with the API server within ${formatDuration(timeoutMs)}`, {
          hint: 'its kubelet may not reach the API server: the log named below has what ran',
        }),
    );
  }

  /** Resolves once the node is Ready (registered only, with requireReady false: a cluster without a CNI). */
  ready(node: string, timeoutMs: number, requireReady: boolean): Promise<void> {
    const expected = { nodes: [node], cniDaemonSets: [], requireReady };
    // What keeps this node from being Ready; the cluster's pods are `up`'s concern, not this node's.
    const pendingOf = (nodes: unknown) => evaluateReadiness(nodes, NO_PODS, expected).pending.filter((item) => item.name === node);
    return this.#wait<void>(
      timeoutMs,
      (resolve) => (nodes) => {
        if (pendingOf(nodes).length > 0) return false;
        resolve();
        return true;
      },
      () => {
        const pending = this.#last === undefined ? [] : pendingOf(this.#last);
        const why = pending.map((item) => `${item.name}: ${item.reason}`).join('; ') || 'the API server did not answer';
        return new RootletError('not-ready', `not ready after ${formatDuration(timeoutMs)}: ${why}`, {
          hint: 'raise --wait on a slow machine; `rootlet status` shows the nodes, and the log named below what ran',
        });
      },
    );
  }

  #wait<T>(timeoutMs: number, checker: (resolve: (value: T) => void) => (nodes: unknown) => boolean, timeout: () => RootletError): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        check: checker(resolve),
        since: performance.now(),
        deadline: Date.now() + timeoutMs,
        expire: () => reject(timeout()),
        reject,
      };
      this.#waiters.add(waiter);
      void this.#poll();
    });
  }

  async #poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    const { signal } = this.#ctx;
    try {
      while (this.#waiters.size > 0) {
        if (signal?.aborted) throw interrupted();
        const asked = performance.now();
        const nodes = await kubectlGet(this.#ctx, this.#controlPlane, ['nodes']).catch((error: unknown) => {
          if (error instanceof RootletError) throw error;
          throw new RootletError('control-plane', `cannot list the nodes on ${this.#controlPlane}: ${error instanceof Error ? error.message : String(error)}`, {
            hint: '`rootlet status` shows whether the control plane runs; run the join again once it does',
          });
        });
        if (nodes !== undefined) this.#last = nodes;
        for (const waiter of [...this.#waiters]) {
          let settled = false;
          try {
            settled = nodes !== undefined && asked >= waiter.since && waiter.check(nodes);
          } catch (error) {
            waiter.reject(error);
            settled = true;
          }
          if (!settled && Date.now() >= waiter.deadline) {
            waiter.expire();
            settled = true;
          }
          if (settled) this.#waiters.delete(waiter);
        }
        if (this.#waiters.size > 0) await sleep(this.#intervalMs, undefined, signal ? { signal } : {}).catch(() => undefined);
      }
    } catch (error) {
      for (const waiter of this.#waiters) waiter.reject(error);
      this.#waiters.clear();
    } finally {
      this.#polling = false;
    }
  }
}
