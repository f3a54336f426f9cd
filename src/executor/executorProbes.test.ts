import { describe, expect, it } from "vitest";
import type { BusClockStatus } from "./busClockGuard.js";
import type { BusEvictionStatus } from "./busEvictionGuard.js";
import { type ProbeSources, readyz } from "./executorProbes.js";

const sources = (
  busClock: BusClockStatus | undefined,
  busEviction: BusEvictionStatus | undefined = undefined,
): ProbeSources => ({
  clock: () => 0,
  lastTurnAt: () => 0,
  bus: () => ({ up: true, detail: "up" }),
  deployment: () => ({ state: "ok", id: "dep-1" }),
  busClock: () => busClock,
  busEviction: () => busEviction,
  live: () => ({ config: false, env: false }),
  venues: () => [],
});

describe("/readyz and the bus clock", () => {
  it("is not ready while the executor's clock disagrees with the bus's, and says by how much and which way", () => {
    const a = readyz(sources({ state: "skewed", offsetMs: -100_000, toleranceMs: 1000 }));
    expect(a.ok).toBe(false);
    expect(JSON.stringify(a.body)).toContain(
      "at least 100000 ms behind the bus's (max_bus_clock_skew_ms 1000)",
    );
    const b = readyz(sources({ state: "skewed", offsetMs: 2500, toleranceMs: 1000 }));
    expect(JSON.stringify(b.body)).toContain("2500 ms ahead of");
  });

  it("is ready once they agree; before the first comparison (or on the embedded bus) there is no bus_clock check", () => {
    const agreed = readyz(sources({ state: "ok", offsetMs: -3 }));
    expect(agreed.ok).toBe(true);
    expect((agreed.body as { checks: Record<string, { ok: boolean }> }).checks.bus_clock?.ok).toBe(true);
    for (const s of [undefined, { state: "unknown" } as const]) {
      const r = readyz(sources(s));
      expect(r.ok).toBe(true);
      expect((r.body as { checks: Record<string, unknown> }).checks.bus_clock).toBeUndefined();
    }
  });
});

describe("/readyz and the bus's eviction policy", () => {
  it("is not ready while the bus may evict keys, and names the policy", () => {
    const a = readyz(sources(undefined, { state: "evicting", policy: "volatile-lru" }));
    expect(a.ok).toBe(false);
    const check = (a.body as { checks: Record<string, { ok: boolean; detail: string }> }).checks.bus_eviction;
    expect(check?.ok).toBe(false);
    expect(check?.detail).toContain("maxmemory-policy volatile-lru");
  });

  it("is ready while it keeps every key; before the first read (or on the embedded bus) there is no bus_eviction check", () => {
    const kept = readyz(sources(undefined, { state: "ok", policy: "noeviction" }));
    expect(kept.ok).toBe(true);
    expect((kept.body as { checks: Record<string, { ok: boolean }> }).checks.bus_eviction?.ok).toBe(true);
    for (const s of [undefined, { state: "unknown" } as const]) {
      const r = readyz(sources(undefined, s));
      expect(r.ok).toBe(true);
      expect((r.body as { checks: Record<string, unknown> }).checks.bus_eviction).toBeUndefined();
    }
  });
});
