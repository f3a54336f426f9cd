import { createReadStream } from "node:fs";
import {
  type AuditProblem,
  type AuditRecord,
  GENESIS_MAC,
  macMatches,
  parseAuditLine,
} from "./auditRecord.js";

/** The result of checking an audit log: every line good, or the first bad line (1-based) and why. */
export type AuditVerifyResult =
  | { readonly ok: true; readonly lines: number }
  | { readonly ok: false; readonly line: number; readonly problem: AuditProblem };

/**
 * Checks a keyed audit chain line by line, in this order per line: `json`
 * (not one well-formed audit line: bad JSON, invalid UTF-8, a missing or
 * extra field, a blank line, a torn last line without its break), `version`
 * (a line of another format version), `mac` (its MAC under the key is not
 * its `mac`: an edited line, a line forged or inserted without the key, or
 * a file re-chained under another key), `seq` (not the previous `seq` + 1,
 * or the first line not 1: a removed, inserted or reordered line),
 * `prev_mac` (not the previous line's `mac`: lines spliced from elsewhere).
 *
 * Removing lines from the END cannot be told from the file alone (the chain
 * has no successor to break); anchor the last MAC elsewhere for that.
 */
export class AuditChainVerifier {
  readonly #key: Uint8Array;
  #lines = 0;
  #seq = 0;
  #prevMac = GENESIS_MAC;
  #last: AuditRecord | undefined;
  #bad: AuditVerifyResult | undefined;

  /** `key`: the audit key the signer MACs its lines with. */
  constructor(key: Uint8Array) {
    if (key.length === 0) throw new TypeError("empty audit key");
    this.#key = key;
  }

  /** Feeds the next line (without its break); returns the verdict once a line is bad. */
  push(line: string): AuditVerifyResult | undefined {
    if (this.#bad !== undefined) return this.#bad;
    this.#lines++;
    const parsed = parseAuditLine(line);
    if (!parsed.ok) return this.#fail(parsed.problem);
    const { record } = parsed;
    if (!macMatches(this.#key, record)) return this.#fail("mac");
    if (record.seq !== this.#seq + 1) return this.#fail("seq");
    if (record.prev_mac !== this.#prevMac) return this.#fail("prev_mac");
    this.#seq = record.seq;
    this.#prevMac = record.mac;
    this.#last = record;
    return undefined;
  }

  /** Reports a line that is not text (invalid UTF-8) or is torn (bytes after the final break). */
  pushUnreadable(): AuditVerifyResult {
    if (this.#bad !== undefined) return this.#bad;
    this.#lines++;
    return this.#fail("json");
  }

  /** The last line that verified. */
  lastRecord(): AuditRecord | undefined {
    return this.#last;
  }

  /** The verdict so far. */
  result(): AuditVerifyResult {
    return this.#bad ?? { ok: true, lines: this.#lines };
  }

  #fail(problem: AuditProblem): AuditVerifyResult {
    this.#bad = { ok: false, line: this.#lines, problem };
    return this.#bad;
  }
}

/**
 * Verifies audit log text (as a whole) under `key`.
 * @example verifyAuditText(readFileSync("audit.jsonl", "utf8"), key) // { ok: true, lines: 42 }
 */
export function verifyAuditText(text: string, key: Uint8Array): AuditVerifyResult {
  const v = new AuditChainVerifier(key);
  if (text === "") return v.result();
  const lines = text.split("\n");
  const torn = lines.pop() !== "";
  for (const line of lines) if (v.push(line) !== undefined) return v.result();
  return torn ? v.pushUnreadable() : v.result();
}

/**
 * Verifies the audit log at `path` under `key`, streaming it (memory
 * bounded by the longest line). Rejects only when the file cannot be read.
 */
export async function verifyAuditFile(path: string, key: Uint8Array): Promise<AuditVerifyResult> {
  const v = new AuditChainVerifier(key);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const decode = (bytes: Buffer): string | undefined => {
    try {
      return decoder.decode(bytes);
    } catch {
      return undefined;
    }
  };
  let carry = Buffer.alloc(0);
  for await (const chunk of createReadStream(path)) {
    let buf = carry.length === 0 ? (chunk as Buffer) : Buffer.concat([carry, chunk as Buffer]);
    let nl = buf.indexOf(0x0a);
    while (nl >= 0) {
      const line = decode(buf.subarray(0, nl));
      const verdict = line === undefined ? v.pushUnreadable() : v.push(line);
      if (verdict !== undefined) return verdict;
      buf = buf.subarray(nl + 1);
      nl = buf.indexOf(0x0a);
    }
    carry = Buffer.from(buf);
  }
  return carry.length > 0 ? v.pushUnreadable() : v.result();
}
