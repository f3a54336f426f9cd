import { describe, expect, it } from "vitest";
import { BusClockGuard, leastOffset } from "./busClockGuard.js";

describe("leastOffset: the least the clocks can differ by, given the bus's time read between two readings", () => {
  it.each([
    ["inside the round trip: they may agree", 1000, 1010, 1005, 0],
    ["at its start", 1000, 1010, 1000, 0],
    ["at its end", 1000, 1010, 1010, 0],
    ["before it: the executor runs ahead", 1000, 1010, 400, 600],
    ["after it: the executor runs behind", 1000, 1010, 1700, -690],
  ])("%s", (_n, before, after, busAt, offset) => {
    expect(leastOffset(before, after, busAt)).toBe(offset);
  });
});

/** A guard over a scripted bus clock and executor clock, recording what it reports. */
function rig(opts: { toleranceMs?: number; intervalMs?: number } = {}) {
  let now = 1_000_000;
  let busOffset = 0; // the bus's time minus the executor's
  let roundTripMs = 0;
  let busKeepsTime = true;
  let reads = 0;
  const reports: string[] = [];
  const guard = new BusClockGuard({
    bus: {
      async busTime() {
        reads++;
        if (!busKeepsTime) return undefined;
        const at = now + busOffset;
        now += roundTripMs;
        return at;
      },
    },
    clock: () => now,
    toleranceMs: opts.toleranceMs ?? 1000,
    intervalMs: opts.intervalMs ?? 1000,
    observer: {
      skewed: (o, t) => reports.push(`skewed ${o} ${t}`),
      agreed: (o) => reports.push(`agreed ${o}`),
    },
  });
  return {
    guard,
    reports,
    reads: () => reads,
    advance: (ms: number) => {
      now += ms;
    },
    set: (o: { busOffset?: number; roundTripMs?: number; busKeepsTime?: boolean }) => {
      busOffset = o.busOffset ?? busOffset;
      roundTripMs = o.roundTripMs ?? roundTripMs;
      busKeepsTime = o.busKeepsTime ?? busKeepsTime;
    },
  };
}

describe("BusClockGuard", () => {
  it("decides while the clocks agree within the tolerance, the boundary included", async () => {
    const r = rig();
    r.set({ busOffset: 1000 });
    expect(await r.guard.ready()).toBe(true);
    expect(r.guard.status).toEqual({ state: "ok", offsetMs: -1000 });
    expect(r.reports).toEqual([]);
  });

  it.each([
    ["behind", 1001, -1001],
    ["ahead", -5000, 5000],
  ])(
    "stops when the executor's clock runs %s beyond it, reported once, and resumes once they agree",
    async (_n, busOffset, offset) => {
      const r = rig();
      r.set({ busOffset });
      expect(await r.guard.ready()).toBe(false);
      expect(r.guard.status).toEqual({ state: "skewed", offsetMs: offset, toleranceMs: 1000 });
      // while skewed every call reads the bus's clock again, and the report is not repeated
      expect(await r.guard.ready()).toBe(false);
      expect(r.reads()).toBe(2);
      expect(r.reports).toEqual([`skewed ${offset} 1000`]);
      r.set({ busOffset: 3 });
      expect(await r.guard.ready()).toBe(true);
      expect(r.reports).toEqual([`skewed ${offset} 1000`, "agreed -3"]);
    },
  );

  it("a slow round trip is not taken for a skewed clock: the least offset it allows is used", async () => {
    const r = rig();
    // the bus's time read 5 s into a 10 s round trip, the clocks equal
    r.set({ busOffset: 5000, roundTripMs: 10_000 });
    expect(await r.guard.ready()).toBe(true);
    expect(r.guard.status).toEqual({ state: "ok", offsetMs: 0 });
  });

  it("reads the bus's clock once per interval while the clocks agree", async () => {
    const r = rig({ intervalMs: 1000 });
    await r.guard.ready();
    r.advance(999);
    await r.guard.ready();
    expect(r.reads()).toBe(1);
    r.advance(1);
    await r.guard.ready();
    expect(r.reads()).toBe(2);
    // a jump between two reads is found at the next one
    r.set({ busOffset: 60_000 });
    r.advance(1000);
    expect(await r.guard.ready()).toBe(false);
  });

  it("a bus with no clock of its own (the embedded bus) never stops it", async () => {
    const r = rig();
    r.set({ busKeepsTime: false });
    expect(await r.guard.ready()).toBe(true);
    expect(r.guard.status).toEqual({ state: "unknown" });
  });

  it("a failed read of the bus's clock throws (the loop backs off), never reads as agreeing", async () => {
    const guard = new BusClockGuard({
      bus: {
        busTime: () => Promise.reject(new Error("connection lost")),
      },
      clock: () => 0,
      toleranceMs: 1000,
      intervalMs: 1000,
      observer: { skewed() {}, agreed() {} },
    });
    await expect(guard.ready()).rejects.toThrow("connection lost");
    await expect(guard.ready()).rejects.toThrow("connection lost");
  });
});
