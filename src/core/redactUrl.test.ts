import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { redactUrl } from "./redactUrl.js";

describe("redactUrl", () => {
  it.each([
    ["redis://:Top@Secret@host:6379", "redis://[REDACTED]@host:6379"],
    ["redis://user:pw@host:6379/2", "redis://[REDACTED]@host:6379/2"],
    ["rediss://:a/b@c@host", "rediss://[REDACTED]@host"],
    ["redis://host:6379", "redis://host:6379"],
    ["sqlite:./data/x.db", "sqlite:./data/x.db"],
  ])("%s → %s", (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });

  it("never leaves any part of a password in the output (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 4, maxLength: 40 }).filter((s) => !/[\s]/.test(s)),
        (password) => {
          const out = redactUrl(`redis://:${password}@host.example:6379/0`);
          expect(out).toBe("redis://[REDACTED]@host.example:6379/0");
        },
      ),
      { numRuns: 500 },
    );
  });
});
