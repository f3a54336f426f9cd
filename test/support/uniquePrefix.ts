import { randomBytes } from "node:crypto";

/** A fresh key prefix per test, e.g. `igtest:3f9a1c0b7d2e:`, so tests never see each other's keys. */
export function uniquePrefix(base = "igtest"): string {
  return `${base}:${randomBytes(6).toString("hex")}:`;
}
