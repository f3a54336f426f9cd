import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

/**
 * The path of libfaketime (Debian package `libfaketime`, installed by
 * `.ci/run` with `faketime`), for `LD_PRELOAD` in a child process whose clock
 * a test sets with `FAKETIME`. Throws, naming the package, when it is missing.
 */
export function libfaketime(): string {
  const lib = "/usr/lib";
  for (const dir of existsSync(lib) ? readdirSync(lib) : []) {
    const path = join(lib, dir, "faketime", "libfaketime.so.1");
    if (existsSync(path)) return path;
  }
  throw new Error("libfaketime.so.1 not found under /usr/lib/*/faketime: apt-get install faketime");
}
