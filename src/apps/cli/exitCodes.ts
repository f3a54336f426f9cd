/**
 * The exit codes of the `intentgate` CLI (sysexits(3) numbers where one
 * fits), and what each means. The README's "Exit codes" table is checked
 * against {@link EXIT_MEANINGS} both ways by
 * `test/architecture/documentedContracts.test.ts`.
 */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  NOT_EXECUTED: 2,
  USAGE: 64,
  DATAERR: 65,
  NOINPUT: 66,
  UNAVAILABLE: 69,
  CANTCREAT: 73,
  TEMPFAIL: 75,
  CONFIG: 78,
} as const;

/** One of the codes the CLI exits with. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** What each exit code means, one line each (the README's table says the same). */
export const EXIT_MEANINGS: { readonly [C in ExitCode]: string } = {
  0: "success",
  1: "another failure (the message says which); also `audit verify` finding a bad line and a `demo` scenario not decided as expected",
  2: "a plan published and waited for (`submit --wait`, `cancel`, `cancel-all`) was decided but not EXECUTED (its result is printed); or a pre-check (`check`, `submit --check`) found the executor would deny it (nothing published)",
  64: "bad usage: an unknown command or option, a missing or malformed argument",
  65: "bad input data: a plan file that is not UTF-8 or not a plan to publish (bad JSON, an unknown field, a number for a decimal, created_at in seconds; the field is named and nothing is published), a corrupted vault or audit log, a secret that is not valid hex/base64",
  66: "a file that cannot be read (plan file, vault, audit log)",
  69: "the bus is unavailable: unreachable, no bus file, or no deployment",
  73: "a deployment already exists (`init` without `--force`)",
  75: "no result within `--timeout-ms` (`submit --wait`, `cancel`, `cancel-all`): the plan stays on the bus and will still be decided",
  78: "invalid configuration: the config file, a missing secret variable, a key given for the wrong algorithm or another key's, a secret file open to others, an audit log held by another signer",
};
