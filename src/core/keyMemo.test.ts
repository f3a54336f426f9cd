import { describe, expect, it } from "vitest";
import { memoKey2 } from "./keyMemo.js";

describe("memoKey2", () => {
  it("answers as the function does, computing each pair once while it is cached", () => {
    let calls = 0;
    const key = memoKey2((a, b) => {
      calls++;
      return JSON.stringify([a, b]);
    });
    expect(key("acct", "BTCUSDT")).toBe('["acct","BTCUSDT"]');
    expect(key("acct", "BTCUSDT")).toBe('["acct","BTCUSDT"]');
    expect(calls).toBe(1);
    // pairs that would run together if joined are told apart
    expect(key("a\n", "b")).toBe(JSON.stringify(["a\n", "b"]));
    expect(key("a", "\nb")).toBe(JSON.stringify(["a", "\nb"]));
    expect(calls).toBe(3);
  });

  it("holds at most `max` entries: full, it starts again empty, and still answers right", () => {
    let calls = 0;
    const key = memoKey2((a, b) => {
      calls++;
      return `${a}|${b}`;
    }, 3);
    for (const s of ["1", "2", "3"]) key("a", s);
    expect(calls).toBe(3);
    expect(key("a", "1")).toBe("a|1");
    expect(calls).toBe(3);
    // the fourth distinct pair empties the cache first
    expect(key("b", "1")).toBe("b|1");
    expect(calls).toBe(4);
    expect(key("a", "1")).toBe("a|1");
    expect(calls).toBe(5);
    for (let i = 0; i < 100; i++) expect(key(`x${i}`, "y")).toBe(`x${i}|y`);
  });
});
