import Database from "better-sqlite3";
import { Redis } from "ioredis";
import { decodeFields } from "../../src/adapters/sqlite/fieldCodec.js";
import { STREAMS } from "../../src/adapters/sqlite/sqliteStreams.js";

/** Reads the alert stream's entries straight from the store (there is no port for it: alerts are for outside consumers). */
export async function readAlerts(url: string, prefix: string): Promise<Array<Record<string, unknown>>> {
  if (url.startsWith("redis")) {
    const c = new Redis(url);
    try {
      const rows = await c.xrange(`${prefix}stream:exit.alert`, "-", "+");
      return rows.map(([, fields]) => JSON.parse(fields[1] as string) as Record<string, unknown>);
    } finally {
      c.disconnect();
    }
  }
  const db = new Database(url.slice("sqlite:".length), { readonly: true });
  try {
    const rows = db
      .prepare("SELECT fields FROM ig_stream WHERE prefix = ? AND stream = ? ORDER BY ms, seq")
      .all(prefix, STREAMS.alert) as Array<{ fields: Buffer }>;
    return rows.map((row) => {
      const alert = decodeFields(row.fields).find(([name]) => name === "alert");
      return JSON.parse(alert?.[1].toString("utf8") ?? "null") as Record<string, unknown>;
    });
  } finally {
    db.close();
  }
}
