import { describe, expect, it } from "vitest";
import { BoundedMap } from "./boundedMap.js";
import { Cooldowns } from "./cooldowns.js";

describe("BoundedMap", () => {
  it("drops the oldest key past the cap; writing a key makes it the newest", () => {
    const m = new BoundedMap<string, number>(2);
    m.put("a", 1);
    m.put("b", 2);
    m.put("a", 3);
    m.put("c", 4);
    expect([...m.entries()]).toEqual([
      ["a", 3],
      ["c", 4],
    ]);
    expect(m.dropped).toBe(1);
  });

  it("refuses a cap below 1", () => {
    expect(() => new BoundedMap(0)).toThrow(RangeError);
  });
});

describe("Cooldowns", () => {
  it("allows a key again once its cooldown has passed, and prunes ended cooldowns", () => {
    const c = new Cooldowns(10);
    expect(c.claim("k", 1000, 500)).toBe(true);
    expect(c.claim("k", 1499, 500)).toBe(false);
    expect(c.claim("other", 1499, 500)).toBe(true);
    expect(c.claim("k", 1500, 500)).toBe(true);
    c.prune(1999);
    expect(c.state()).toEqual([{ dedup_key: "k", until: 2000 }]);
    c.prune(2000);
    expect(c.state()).toEqual([]);
  });
});
