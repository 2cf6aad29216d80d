/** Anything shaped like a bootstrap token (kube-facts 1.7), wherever it appears in text rootlet keeps or prints. */
const TOKEN_ANYWHERE = /\b[a-z0-9]{6}\.[a-z0-9]{16}\b/g;
/** The `token:` lines of a kubeadm configuration, whatever their value. */
const TOKEN_FIELD = /(\btoken:\s*)\S+/g;

/**
 * Text with every bootstrap token replaced by `<redacted>`. rootlet hands out no certificate key (it joins workers
 * only), and CA hashes are public.
 */
export function redact(text: string): string {
  return text.replace(TOKEN_FIELD, '$1<redacted>').replace(TOKEN_ANYWHERE, '<redacted>');
}

export interface TranscriptEntry {
  at: string;
  node: string;
  command: string;
  exitCode: number | undefined;
  output: string;
  /** How long the command ran in the node. */
  ms: number;
}

/**
 * What ran inside the nodes and what it answered, redacted as it is recorded: the log `up` leaves when it fails,
 * so the user can see kubeadm's own words without a token ever reaching the disk.
 */
export class Transcript {
  readonly #entries: TranscriptEntry[] = [];
  readonly #listener: ((entry: TranscriptEntry) => void) | undefined;

  /** `listener` sees each entry as it is recorded, already redacted (--verbose prints them). */
  constructor(listener?: (entry: TranscriptEntry) => void) {
    this.#listener = listener;
  }

  record(node: string, argv: readonly string[], exitCode: number | undefined, output: string, ms = 0): void {
    const entry = { at: new Date().toISOString(), node, command: redact(argv.join(' ')), exitCode, output: redact(output), ms };
    this.#entries.push(entry);
    this.#listener?.(entry);
  }

  note(node: string, text: string): void {
    this.record(node, ['#', text], undefined, '');
  }

  /** Time spent inside nodes running commands whose argv[0] is one of `tools` (kubeadm's and kubectl's own work). */
  msIn(tools: readonly string[]): number {
    return this.#entries.filter((entry) => tools.includes(entry.command.split(' ')[0]!)).reduce((sum, entry) => sum + entry.ms, 0);
  }

  get entries(): readonly TranscriptEntry[] {
    return this.#entries;
  }

  render(): string {
    return this.#entries
      .map(({ at, node, command, exitCode, output, ms }) => {
        const head = `[${at}] ${node}$ ${command}${exitCode === undefined ? '' : ` (exit ${exitCode}, ${ms} ms)`}`;
        return output.trim() === '' ? head : `${head}\n${output.trimEnd()}`;
      })
      .join('\n');
  }
}
