/**
 * A mistake in how the command was called: the CLI prints the message and the usage and exits 2.
 * Everything else that fails exits 1.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
