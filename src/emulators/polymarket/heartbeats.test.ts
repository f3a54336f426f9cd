import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Heartbeats } from "./heartbeats.js";

describe("Heartbeats (fake timers)", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("each heartbeat re-arms the timeout; a missed one expires the key once and ends its session", () => {
    const expired: string[] = [];
    const hb = new Heartbeats({ timeoutMs: 10_000, expire: (k) => expired.push(k) });
    const first = hb.beat("k1", "");
    expect(first.ok).toBe(true);
    vi.advanceTimersByTime(9_000);
    expect(hb.beat("k1", first.heartbeatId)).toEqual({ ok: true, heartbeatId: first.heartbeatId });
    vi.advanceTimersByTime(9_000);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1_001);
    expect(expired).toEqual(["k1"]);
    expect(hb.active("k1")).toBe(false);
    vi.advanceTimersByTime(60_000);
    expect(expired).toEqual(["k1"]);
    const again = hb.beat("k1", "");
    expect(again.ok && again.heartbeatId !== first.heartbeatId).toBe(true);
    hb.clear();
  });

  it("a wrong id is refused with the current one and does not re-arm; keys are independent", () => {
    const expired: string[] = [];
    const hb = new Heartbeats({ timeoutMs: 1_000, expire: (k) => expired.push(k) });
    const a = hb.beat("a", "");
    hb.beat("b", "");
    vi.advanceTimersByTime(600);
    expect(hb.beat("a", "nope")).toEqual({
      ok: false,
      heartbeatId: a.heartbeatId,
      error: "Invalid Heartbeat ID",
    });
    hb.beat("b", "");
    vi.advanceTimersByTime(500);
    expect(expired).toEqual(["a"]);
    vi.advanceTimersByTime(600);
    expect(expired).toEqual(["a", "b"]);
    expect(() => new Heartbeats({ timeoutMs: 0, expire: () => {} })).toThrow(RangeError);
  });
});
