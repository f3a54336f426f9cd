import { isRecord } from "../core/isRecord.js";
import { AlertStateError, parseStoredJson } from "./alertDeliveryError.js";

/** One sink's delivery of one alert, still to do. */
export interface SinkDelivery {
  /** Failed attempts so far (0: not tried yet). */
  attempts: number;
  /** Not before this time (ms since the epoch). */
  nextAt: number;
  /** When the alert was taken from the stream (ms): the age limit counts from here. */
  since: number;
  /** The last failure's reason, `null` before one. */
  reason: string | null;
}

/** An alert read from the stream and not yet delivered to every sink. */
export interface PendingAlert {
  /** Its stream id. */
  readonly id: string;
  /** Its JSON text, kept so a trimmed stream cannot lose it. */
  readonly text: string;
  /** Sink name → its delivery still to do. */
  readonly sinks: Map<string, SinkDelivery>;
}

/**
 * What a deliverer persists on the bus, in one value so it changes
 * atomically: the stream id of the last alert taken (`cursor`) and every
 * delivery still to do. An alert is taken and its deliveries queued in the
 * same write, so a restart never loses one; a delivery is removed in the
 * write after it succeeded, so only a crash in between repeats one.
 */
export interface DeliveryState {
  cursor: string;
  readonly pending: PendingAlert[];
}

/** The stored form: `{"v":1,"cursor":…,"pending":[{"id","text","sinks":{name:{attempts,next_at,since,reason}}}]}`. */
export function encodeState(state: DeliveryState): string {
  return JSON.stringify({
    v: 1,
    cursor: state.cursor,
    pending: state.pending.map((p) => ({
      id: p.id,
      text: p.text,
      sinks: Object.fromEntries(
        [...p.sinks].map(([name, d]) => [
          name,
          { attempts: d.attempts, next_at: d.nextAt, since: d.since, reason: d.reason },
        ]),
      ),
    })),
  });
}

/** Reads a stored state; throws {@link AlertStateError} on anything {@link encodeState} does not write. */
export function decodeState(text: string): DeliveryState {
  const raw = parseStoredJson(text, "alert delivery state: not JSON");
  if (!isRecord(raw) || raw.v !== 1 || typeof raw.cursor !== "string" || !Array.isArray(raw.pending))
    throw new AlertStateError("alert delivery state: not a v1 state ({v:1, cursor, pending})");
  const pending = raw.pending.map((p: unknown, i: number): PendingAlert => {
    if (!isRecord(p) || typeof p.id !== "string" || typeof p.text !== "string" || !isRecord(p.sinks))
      throw new AlertStateError(`alert delivery state: pending[${i}] is malformed`);
    const sinks = new Map<string, SinkDelivery>();
    for (const [name, d] of Object.entries(p.sinks)) {
      if (
        !isRecord(d) ||
        !Number.isSafeInteger(d.attempts) ||
        typeof d.next_at !== "number" ||
        typeof d.since !== "number" ||
        (d.reason !== null && typeof d.reason !== "string")
      )
        throw new AlertStateError(
          `alert delivery state: pending[${i}] sink ${JSON.stringify(name)} is malformed`,
        );
      sinks.set(name, {
        attempts: d.attempts as number,
        nextAt: d.next_at,
        since: d.since,
        reason: d.reason as string | null,
      });
    }
    return { id: p.id, text: p.text, sinks };
  });
  return { cursor: raw.cursor, pending };
}
