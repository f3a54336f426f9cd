/** Options of an `AlertDelivery` that cannot work (a bad number, two sinks of one name). Names the option. */
export class AlertDeliveryConfigError extends Error {
  override readonly name = "AlertDeliveryConfigError";
  /** The option at fault, e.g. `backoffBaseMs` or `sinks`. */
  readonly option: string;

  constructor(option: string, detail: string) {
    super(`alert delivery: ${option}: ${detail}`);
    this.option = option;
  }
}

/**
 * The delivery state stored on the bus cannot be read (not written by this
 * code, or damaged). Delivery stops rather than guess: starting over would
 * repeat every alert, skipping ahead could lose some. Delete the state key
 * (docs/alerts.md "Persistence") to start over deliberately.
 */
export class AlertStateError extends Error {
  override readonly name = "AlertStateError";
}

/** Parses a stored state's JSON; text that is not JSON throws {@link AlertStateError} with `notJson`. */
export function parseStoredJson(text: string, notJson: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AlertStateError(notJson);
  }
}
