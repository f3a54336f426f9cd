/** One problem found in a config file, located by its dotted field path. */
export interface ConfigIssue {
  /** Dotted path of the offending field, e.g. `keys.exitbrain-k1.secret_env`; `<file>` for the file itself. */
  readonly field: string;
  /** What is wrong, never containing a secret value. */
  readonly message: string;
}

/**
 * An invalid executor configuration. Its message names the field(s) at fault
 * and never contains secret material (only the names of environment variables
 * and files that hold secrets).
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  /** The first offending field (see {@link ConfigIssue.field}). */
  readonly field: string;
  /** Every problem found, in document order where known. */
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[] | ConfigIssue) {
    const list = Array.isArray(issues) ? (issues as readonly ConfigIssue[]) : [issues as ConfigIssue];
    if (list.length === 0) throw new TypeError("ConfigError needs at least one issue");
    super(`invalid config: ${list.map((i) => `${i.field}: ${i.message}`).join("; ")}`);
    this.field = list[0]!.field;
    this.issues = Object.freeze([...list]);
  }
}

/** Field name used for problems with the config file as a whole (unreadable, unparsable). */
export const FILE_FIELD = "<file>";
