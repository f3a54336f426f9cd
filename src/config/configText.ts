import { extname } from "node:path";
import type { z } from "zod";
import { findDuplicateKey } from "../core/strictJson.js";
import { ConfigError, type ConfigIssue, FILE_FIELD } from "./configError.js";

/**
 * Shared helpers for reading config files (the executor's and the signer's):
 * JSON/YAML parsing that reports positions but never quotes the text (it might
 * hold a pasted secret), zod issues as field-named {@link ConfigIssue}s, and
 * freezing. One implementation, so both files fail the same way.
 */

/** A config file's syntax. */
export type ConfigFormat = "json" | "yaml";

/** The YAML parser is loaded only for YAML configs (it costs ~8 MB of heap). */
export async function parseYamlText(text: string): Promise<unknown> {
  const { parse: parseYaml, YAMLParseError } = await import("yaml");
  try {
    return parseYaml(text, { uniqueKeys: true, prettyErrors: true });
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const pos = err.linePos?.[0];
      const where = pos ? ` at line ${pos.line}, column ${pos.col}` : "";
      const what = err.code === "DUPLICATE_KEY" ? "repeated key" : `not valid YAML (${err.code})`;
      throw new ConfigError({ field: FILE_FIELD, message: `${what}${where}` });
    }
    throw new ConfigError({ field: FILE_FIELD, message: "not valid YAML" });
  }
}

export function parseJsonText(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigError({
      field: FILE_FIELD,
      message: `not valid JSON at ${lineCol(text, jsonErrorPosition(text))}`,
    });
  }
  const dup = findDuplicateKey(text);
  if (dup !== undefined) throw new ConfigError({ field: dup, message: "repeated key" });
  return value;
}

/**
 * Offset of the first character that makes `text` invalid JSON, found by
 * bisecting prefixes (a prefix either still could be completed, or already
 * holds the error). V8's own message quotes the text, so it is not used.
 */
function jsonErrorPosition(text: string): number {
  const hardError = (k: number): boolean => {
    try {
      JSON.parse(text.slice(0, k));
      return false;
    } catch (err) {
      const msg = err instanceof Error ? err.message : "";
      if (/end of JSON input/i.test(msg)) return false;
      const at = /at position (\d+)/.exec(msg);
      return at === null || Number(at[1]) < k;
    }
  };
  if (!hardError(text.length)) return text.length; // ends too early
  let lo = 0;
  let hi = text.length; // invariant: !hardError(lo) && hardError(hi)
  if (hardError(0)) return 0;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (hardError(mid)) hi = mid;
    else lo = mid;
  }
  return hi - 1;
}

function lineCol(text: string, pos: number): string {
  const before = text.slice(0, pos);
  const line = before.split("\n").length;
  const col = pos - before.lastIndexOf("\n");
  return `line ${line}, column ${col}`;
}

export function dotted(path: readonly PropertyKey[]): string {
  return path.length === 0 ? "<root>" : path.map((p) => String(p)).join(".");
}

export function zodIssues(issues: readonly z.core.$ZodIssue[]): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const inlineSecret = /secret|private|password|token/i.test(key);
        out.push({
          field: dotted([...issue.path, key]),
          message: inlineSecret
            ? "unknown key (secrets are never inline: use secret_env or secret_file)"
            : "unknown key",
        });
      }
    } else if (issue.code === "invalid_key") {
      out.push({ field: dotted(issue.path), message: issue.issues[0]?.message ?? "invalid key" });
    } else if (issue.code === "invalid_type" && /received undefined$/.test(issue.message)) {
      out.push({ field: dotted(issue.path), message: "is required" });
    } else {
      out.push({ field: dotted(issue.path), message: issue.message });
    }
  }
  return out;
}

export function errCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "error";
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** `yaml` for `.yaml` / `.yml`, else `json`. */
export function formatOf(path: string): ConfigFormat {
  const ext = extname(path).toLowerCase();
  return ext === ".yaml" || ext === ".yml" ? "yaml" : "json";
}
