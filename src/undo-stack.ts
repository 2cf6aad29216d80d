/**
 * Whoever creates a resource registers how to undo it; on failure or abort the stack unwinds in reverse.
 * (Node 20 has no AsyncDisposableStack: this is the small part rootlet needs.)
 */
export class UndoStack {
  readonly #steps: Array<{ what: string; undo: () => Promise<void> }> = [];

  push(what: string, undo: () => Promise<void>): void {
    this.#steps.push({ what, undo });
  }

  get size(): number {
    return this.#steps.length;
  }

  /** Runs every undo step, newest first; returns what could not be undone instead of stopping at it. */
  async unwind(): Promise<string[]> {
    const failed: string[] = [];
    while (this.#steps.length > 0) {
      const step = this.#steps.pop()!;
      try {
        await step.undo();
      } catch (error) {
        failed.push(`${step.what}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return failed;
  }

  /** Forget the steps: what was created is kept (success, or --retain). */
  clear(): void {
    this.#steps.length = 0;
  }
}
