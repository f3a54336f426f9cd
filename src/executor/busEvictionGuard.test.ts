import { describe, expect, it } from "vitest";
import { BusEvictionGuard } from "./busEvictionGuard.js";

/** A guard over a scripted eviction policy, recording what it reports. */
function rig(intervalMs = 1000) {
  let now = 1_000_000;
  let policy: string | undefined | Error = "noeviction";
  let reads = 0;
  const reports: string[] = [];
  const guard = new BusEvictionGuard({
    bus: {
      async evictionPolicy() {
        reads++;
        if (policy instanceof Error) throw policy;
        return policy;
      },
    },
    clock: () => now,
    intervalMs,
    observer: {
      evicting: (p) => reports.push(`evicting ${p}`),
      kept: (p) => reports.push(`kept ${p}`),
    },
  });
  return {
    guard,
    reports,
    reads: () => reads,
    advance: (ms: number) => {
      now += ms;
    },
    set: (p: string | undefined | Error) => {
      policy = p;
    },
  };
}

describe("BusEvictionGuard", () => {
  it("decides while the bus keeps every key (noeviction), reading the policy once per interval", async () => {
    const r = rig();
    expect(await r.guard.ready()).toBe(true);
    expect(r.guard.status).toEqual({ state: "ok", policy: "noeviction" });
    r.advance(999);
    expect(await r.guard.ready()).toBe(true);
    expect(r.reads()).toBe(1);
    r.advance(1);
    expect(await r.guard.ready()).toBe(true);
    expect(r.reads()).toBe(2);
    expect(r.reports).toEqual([]);
  });

  it.each([
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "a-policy-redis-adds-later",
  ])(
    "decides nothing under %s, reported once, and reads it again on every call until it changes",
    async (p) => {
      const r = rig();
      r.set(p);
      expect(await r.guard.ready()).toBe(false);
      expect(await r.guard.ready()).toBe(false);
      expect(r.reads()).toBe(2);
      expect(r.guard.status).toEqual({ state: "evicting", policy: p });
      expect(r.reports).toEqual([`evicting ${p}`]);
      r.set("noeviction");
      expect(await r.guard.ready()).toBe(true);
      expect(r.reports).toEqual([`evicting ${p}`, "kept noeviction"]);
    },
  );

  it("notices a policy changed at run time (CONFIG SET) within one interval", async () => {
    const r = rig(500);
    expect(await r.guard.ready()).toBe(true);
    r.set("allkeys-lru");
    expect(await r.guard.ready()).toBe(true); // not due yet
    r.advance(500);
    expect(await r.guard.ready()).toBe(false);
    expect(r.reports).toEqual(["evicting allkeys-lru"]);
  });

  it("a bus that never evicts (the embedded bus) decides, with no status to report", async () => {
    const r = rig();
    r.set(undefined);
    expect(await r.guard.ready()).toBe(true);
    expect(r.guard.status).toEqual({ state: "unknown" });
    expect(r.reports).toEqual([]);
  });

  it("a failed read throws (the caller backs off and decides nothing meanwhile), and is read again next time", async () => {
    const r = rig();
    r.set(new Error("NOPERM this user has no permissions to run the 'info' command"));
    await expect(r.guard.ready()).rejects.toThrow(/NOPERM/);
    r.set("noeviction");
    expect(await r.guard.ready()).toBe(true);
    expect(r.reads()).toBe(2);
  });
});
