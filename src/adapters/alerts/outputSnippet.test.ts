import { describe, expect, it } from "vitest";
import { redactedSnippet, SNIPPET_MAX_CHARS } from "./outputSnippet.js";
import { parseRetryAfter } from "./retryAfter.js";

describe("redactedSnippet", () => {
  it("cuts out given secrets, URLs, credentials and long tokens, on one bounded line", () => {
    const out = redactedSnippet(
      "err\n\tfor /services/T1/B2/abcdef: password=hunter2 Authorization: Bearer eyJhbGciOi.x.y see https://h/p?q=1 " +
        "key AKIAABCDEFGHIJKLMNOPQRSTUVWX",
      ["/services/T1/B2/abcdef"],
    );
    expect(out).toBe(
      "err for [REDACTED]: password=[REDACTED] Authorization: [REDACTED] [REDACTED] see https://[REDACTED] key [REDACTED]",
    );
    expect(redactedSnippet("x".repeat(10_000)).length).toBeLessThanOrEqual(SNIPPET_MAX_CHARS);
    expect(redactedSnippet(Buffer.from("  plain words  "))).toBe("plain words");
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates, capped; undefined when unreadable", () => {
    const now = Date.parse("2024-01-01T00:00:00Z");
    expect(parseRetryAfter("3", now, 60_000)).toBe(3000);
    expect(parseRetryAfter("Mon, 01 Jan 2024 00:00:10 GMT", now, 60_000)).toBe(10_000);
    expect(parseRetryAfter("Sun, 31 Dec 2023 00:00:00 GMT", now, 60_000)).toBe(0);
    expect(parseRetryAfter("86400", now, 60_000)).toBe(60_000);
    expect(parseRetryAfter(undefined, now, 60_000)).toBeUndefined();
    expect(parseRetryAfter("soon", now, 60_000)).toBeUndefined();
    expect(parseRetryAfter("-1", now, 60_000)).toBeUndefined();
  });
});
