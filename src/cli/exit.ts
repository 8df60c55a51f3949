/** Exit codes shared by every command: 0 ok, 1 refused / invalid, 2 could not run. */
export const EXIT_OK = 0;
export const EXIT_REFUSED = 1;
export const EXIT_ERROR = 2;

/** A failure that ends the command with `exitCode` and prints only `message`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_ERROR,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
