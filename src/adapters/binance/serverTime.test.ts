import { describe, expect, it } from "vitest";
import { ServerClock, type TimeSample } from "./serverTime.js";

describe("ServerClock", () => {
  it("offset = serverTime − midpoint of the round trip, from the reading with the shortest round trip", async () => {
    let local = 1000;
    const samples: (TimeSample | undefined)[] = [
      { serverTime: 5600, sentAt: 1000, receivedAt: 1200 }, // rtt 200 → 4500
      undefined,
      { serverTime: 5530, sentAt: 1000, receivedAt: 1040 }, // rtt 40 → 4510
    ];
    const clock = new ServerClock({ now: () => local, sample: async () => samples.shift(), samples: 3 });
    expect(clock.needsSync()).toBe(true);
    expect(clock.now()).toBe(1000);
    expect(await clock.ensure()).toBe(true);
    expect(clock.offsetMs).toBe(4510);
    expect(clock.rttMs).toBe(40);
    expect(clock.now()).toBe(5510);
    expect(clock.at(2000)).toBe(6510);
    expect(clock.needsSync()).toBe(false);
    local += 60_000;
    expect(clock.needsSync()).toBe(true);
  });

  it("invalidate() forces a resync; a failed sync keeps the last offset; concurrent syncs share one", async () => {
    let calls = 0;
    let fail = false;
    const clock = new ServerClock({
      now: () => 0,
      sample: async () => {
        calls++;
        return fail ? undefined : { serverTime: 100, sentAt: 0, receivedAt: 0 };
      },
      samples: 1,
    });
    await Promise.all([clock.sync(), clock.sync(), clock.sync()]);
    expect(calls).toBe(1);
    expect(clock.needsSync()).toBe(false);
    clock.invalidate();
    expect(clock.needsSync()).toBe(true);
    fail = true;
    expect(await clock.sync()).toBe(false);
    expect(clock.offsetMs).toBe(100);
    expect(await clock.ensure()).toBe(true);
  });
});
