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
    const second = hb.beat("k1", first.heartbeatId);
    expect(second.ok).toBe(true);
    // Every heartbeat taken is answered with a new id; the old one is spent.
    expect(second.heartbeatId).not.toBe(first.heartbeatId);
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

  it("a wrong or spent id is refused (echoed back) and does not re-arm; keys are independent", () => {
    const expired: string[] = [];
    const hb = new Heartbeats({ timeoutMs: 1_000, expire: (k) => expired.push(k) });
    const a0 = hb.beat("a", "");
    const a = hb.beat("a", a0.heartbeatId);
    hb.beat("b", "");
    vi.advanceTimersByTime(600);
    expect(hb.beat("a", "nope")).toEqual({ ok: false, heartbeatId: "nope", error: "Invalid Heartbeat ID" });
    expect(hb.beat("a", a0.heartbeatId)).toEqual({
      ok: false,
      heartbeatId: a0.heartbeatId,
      error: "Invalid Heartbeat ID",
    });
    expect(a.ok).toBe(true);
    hb.beat("b", "");
    vi.advanceTimersByTime(500);
    expect(expired).toEqual(["a"]);
    vi.advanceTimersByTime(600);
    expect(expired).toEqual(["a", "b"]);
    expect(() => new Heartbeats({ timeoutMs: 0, expire: () => {} })).toThrow(RangeError);
  });
});
