import { parseEntry } from "../parseEntry.js";
import { reason } from "../reasons.js";
import { deny, type Gate } from "./gate.js";

/** Gate 1: parse and schema (`invalid_plan:<detail>`). */
export const schemaGate: Gate = {
  name: "schema",
  run(input) {
    const out = input.preparsed ?? parseEntry(input.entry.fields);
    return out.ok ? { ok: true, found: { parsed: out.entry } } : deny(reason("invalid_plan", out.detail));
  },
};
