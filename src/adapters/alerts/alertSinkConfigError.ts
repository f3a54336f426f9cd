/**
 * A sink that cannot be built from its options (a URL that is not http(s),
 * an empty command, a bad name or timeout). Names the sink and the option at
 * fault, never the option's value: a webhook URL is a secret.
 */
export class AlertSinkConfigError extends Error {
  override readonly name = "AlertSinkConfigError";
  /** The sink's name. */
  readonly sink: string;
  /** The option at fault, e.g. `url` or `argv`. */
  readonly option: string;

  constructor(sink: string, option: string, detail: string) {
    super(`alert sink ${sink}: ${option}: ${detail}`);
    this.sink = sink;
    this.option = option;
  }
}
