import type { CommitOutcome } from "../../core/decision.js";
import { REPLY_CODES } from "./conflictCodes.js";

/** Reply code → outcome, from the shared table (conflictCodes.ts). */
const OUTCOMES: ReadonlyMap<unknown, CommitOutcome> = new Map<unknown, CommitOutcome>(
  Object.values(REPLY_CODES.commit).map((c) => [c.code, c.outcome]),
);

/**
 * Turns the commit script's reply (lua/commit.lua, "Output") into one
 * outcome per decision: a result entry id is `committed`, a code is looked
 * up in `REPLY_CODES.commit`; anything else throws.
 */
export function decodeCommitReply(reply: unknown, expected: number): CommitOutcome[] {
  if (!Array.isArray(reply) || reply.length !== expected) {
    throw new Error(`commit: unexpected script reply (${describe(reply)}), wanted ${expected} outcomes`);
  }
  const out: CommitOutcome[] = new Array(expected);
  for (let i = 0; i < expected; i++) {
    const r: unknown = reply[i];
    // a one-letter code may come back as a Buffer
    const known = OUTCOMES.get(Buffer.isBuffer(r) && r.length === 1 ? r.toString("latin1") : r);
    if (known !== undefined) out[i] = { ...known };
    else if (typeof r === "string" && r.length > 0) out[i] = { status: "committed", resultId: r };
    else if (Buffer.isBuffer(r) && r.length > 0)
      out[i] = { status: "committed", resultId: r.toString("utf8") };
    else throw new Error(`commit: unexpected outcome in script reply (${describe(r)})`);
  }
  return out;
}

function describe(x: unknown): string {
  try {
    return JSON.stringify(x)?.slice(0, 200) ?? String(x);
  } catch {
    return String(x);
  }
}
