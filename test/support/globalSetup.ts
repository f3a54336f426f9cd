import type { TestProject } from "vitest/node";
import { startRedisServer } from "./redisServer.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** `redis://…` of the Redis server tests use (`REDIS_URL`, or one started for the run). */
    redisUrl: string;
  }
}

/**
 * Vitest global setup: uses `REDIS_URL` when set, else starts one
 * `redis-server` on a free port for the whole run; tests read the URL with
 * `inject("redisUrl")` and isolate themselves with a unique key prefix.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv !== undefined && fromEnv !== "") {
    project.provide("redisUrl", fromEnv);
    return async () => {};
  }
  const server = await startRedisServer();
  project.provide("redisUrl", server.url);
  return () => server.stop();
}
