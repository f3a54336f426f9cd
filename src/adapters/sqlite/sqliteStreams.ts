import type { Lane } from "../../core/plan.js";
import { decodeFields, encodeFields } from "./fieldCodec.js";
import type { Db } from "./sqliteSchema.js";
import { formatStreamId, nextStreamId, type StreamId } from "./streamIds.js";

/** Stream names after the prefix (wire-v1 §1, architecture.md). */
export const STREAMS = {
  main: "stream:apply.plan",
  manual: "stream:apply.plan.manual",
  result: "stream:apply.result",
  dlq: "stream:apply.dlq",
  alert: "stream:exit.alert",
  orderEvent: "stream:order.event",
  stateLog: "state:log",
} as const;

/** The plan stream of a lane. */
export const laneStream = (lane: Lane): string => (lane === "main" ? STREAMS.main : STREAMS.manual);

/** The plan entry a result row answers (for the one-result UNIQUE index). */
export interface ResultRef {
  readonly lane: Lane;
  readonly streamId: string;
  readonly reconciled: boolean;
}

/** A raw stream row. */
export interface StreamRow {
  readonly ms: number;
  readonly seq: number;
  readonly fields: Buffer;
}

/**
 * Prepared statements for appending to and reading streams. Every method must
 * run inside a transaction the caller opened (appends inside `BEGIN
 * IMMEDIATE`, so the last id read is still the last when the row is written).
 */
export class StreamStore {
  private readonly lastStmt;
  private readonly insertStmt;
  private readonly afterStmt;
  private readonly lengthStmt;
  private readonly oneStmt;

  constructor(
    db: Db,
    private readonly prefix: string,
  ) {
    this.lastStmt = db.prepare<[string, string], { ms: number; seq: number }>(
      "SELECT ms, seq FROM ig_stream WHERE prefix = ? AND stream = ? ORDER BY ms DESC, seq DESC LIMIT 1",
    );
    this.insertStmt = db.prepare(
      `INSERT INTO ig_stream (prefix, stream, ms, seq, fields, ref_lane, ref_id, reconciled)
       VALUES (@prefix, @stream, @ms, @seq, @fields, @refLane, @refId, @reconciled)`,
    );
    this.afterStmt = db.prepare<[string, string, number, number, number], StreamRow>(
      `SELECT ms, seq, fields FROM ig_stream WHERE prefix = ? AND stream = ? AND (ms, seq) > (?, ?)
       ORDER BY ms, seq LIMIT ?`,
    );
    this.lengthStmt = db.prepare<[string, string], { n: number }>(
      "SELECT count(*) AS n FROM ig_stream WHERE prefix = ? AND stream = ?",
    );
    this.oneStmt = db.prepare<[string, string, number, number], StreamRow>(
      "SELECT ms, seq, fields FROM ig_stream WHERE prefix = ? AND stream = ? AND ms = ? AND seq = ?",
    );
  }

  /** Appends an entry with the next id of its stream; returns the id. */
  append(stream: string, fields: ReadonlyArray<readonly [string, string | Buffer]>, ref?: ResultRef): string {
    if (fields.length === 0) throw new Error("sqlite bus: a stream entry needs at least one field");
    const last = this.lastStmt.get(this.prefix, stream);
    const id = nextStreamId(last, Date.now());
    this.insertStmt.run({
      prefix: this.prefix,
      stream,
      ms: id.ms,
      seq: id.seq,
      fields: encodeFields(fields),
      refLane: ref?.lane ?? null,
      refId: ref?.streamId ?? null,
      reconciled: ref === undefined ? null : ref.reconciled ? 1 : 0,
    });
    return formatStreamId(id);
  }

  /** The newest entry's id, or undefined when the stream is empty. */
  lastId(stream: string): string | undefined {
    const last = this.lastStmt.get(this.prefix, stream);
    return last === undefined ? undefined : formatStreamId(last);
  }

  /** Up to `count` entries with an id greater than `after`, in id order. */
  after(stream: string, after: StreamId, count: number): StreamRow[] {
    return this.afterStmt.all(this.prefix, stream, after.ms, after.seq, count);
  }

  /**
   * Up to `count` entries after `after`, each with the JSON of its one field
   * `field` parsed (results, order events); an entry without it is an error
   * naming the stream and the entry.
   */
  afterJson<T>(stream: string, after: StreamId, count: number, field: string): { id: string; value: T }[] {
    return this.after(stream, after, count).map((row) => {
      const found = decodeFields(row.fields).find(([name]) => name === field);
      if (!found) throw new Error(`sqlite bus: ${stream} entry ${formatStreamId(row)} has no ${field} field`);
      return { id: formatStreamId(row), value: JSON.parse(found[1].toString("utf8")) as T };
    });
  }

  /** One entry, if present. */
  get(stream: string, id: StreamId): StreamRow | undefined {
    return this.oneStmt.get(this.prefix, stream, id.ms, id.seq);
  }

  /** Entries in a stream. */
  length(stream: string): number {
    return this.lengthStmt.get(this.prefix, stream)?.n ?? 0;
  }
}
