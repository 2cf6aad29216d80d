import { readdirSync, readFileSync } from 'node:fs';

const TOKEN = /\b[a-z0-9]{6}\.[a-z0-9]{16}\b/;

/**
 * Samples every process's argv on the machine (the host's and, through /proc, every node container's) and keeps
 * what looks like a bootstrap token. Synchronous reads on a timer: a process that lives a few milliseconds can slip
 * between samples, so the test also checks what the stand-in kubeadm sees in its own argv.
 */
export function watchArgvForTokens(intervalMs = 40): { start(): void; stop(): void; hits(): string[]; samples(): number } {
  const hits = new Set<string>();
  let samples = 0;
  let timer: NodeJS.Timeout | undefined;
  const sample = () => {
    samples++;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let argv: string;
      try {
        argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {
        continue;
      }
      if (TOKEN.test(argv)) hits.add(`pid ${pid}: ${argv}`);
    }
  };
  return {
    start: () => {
      timer = setInterval(sample, intervalMs);
    },
    stop: () => clearInterval(timer),
    hits: () => [...hits],
    samples: () => samples,
  };
}
