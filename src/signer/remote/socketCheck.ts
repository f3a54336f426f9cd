import { lstat, realpath, stat } from "node:fs/promises";
import { dirname } from "node:path";

/** The uid a process runs as (`process.getuid`), or `undefined` where there is none (Windows). */
export function ownUid(): number | undefined {
  return typeof process.getuid === "function" ? process.getuid() : undefined;
}

/**
 * Why the client must not send its token to the socket at `path`, or
 * `undefined` when it may (signing-plane-v1 §5: the client checks the
 * socket's owner and mode, and that its folder is not writable by others,
 * before it sends the token). The rules, strict on purpose:
 *
 * - `path` itself is a socket (not a symlink), owned by `expectedUid`, with
 *   no group or other permission bit (0600);
 * - its folder is owned by `expectedUid` or root and is not writable by
 *   group or others at all, sticky bit or not (a shared folder such as
 *   `/tmp` is refused: anyone could have created the socket there first);
 * - every folder above it, as written and as resolved, is owned by
 *   `expectedUid` or root and is not writable by group or others unless it
 *   is root's and sticky (like `/tmp`: others can add entries there but not
 *   rename or remove ours).
 *
 * Checked before every connection attempt. What it cannot close: a process
 * running as `expectedUid` or root can still replace the socket between the
 * check and the connect (it could read the token from this process anyway).
 */
export async function socketProblem(path: string, expectedUid: number): Promise<string | undefined> {
  let st: Stats;
  try {
    st = (await lstat(path)) as Stats;
  } catch (err) {
    return `${path} cannot be inspected (${(err as NodeJS.ErrnoException).code ?? "error"})`;
  }
  if (!st.isSocket()) return `${path} is not a socket`;
  if (st.uid !== expectedUid)
    return `${path} is owned by uid ${st.uid}, not ${expectedUid} (the expected signer uid)`;
  if ((st.mode & 0o077) !== 0) return `${path} has mode 0${(st.mode & 0o777).toString(8)}, not 0600`;

  const parent = dirname(path);
  const folder = await statOf(parent, stat);
  if (typeof folder === "string") return folder;
  if (folder.uid !== expectedUid && folder.uid !== 0)
    return `its folder ${parent} is owned by uid ${folder.uid}, not ${expectedUid} or root`;
  if ((folder.mode & 0o022) !== 0)
    return `its folder ${parent} has mode 0${(folder.mode & 0o7777).toString(8)}: writable by group or others`;

  let real: string;
  try {
    real = await realpath(parent);
  } catch (err) {
    return `its folder ${parent} cannot be resolved (${(err as NodeJS.ErrnoException).code ?? "error"})`;
  }
  for (const [dir, look] of [
    [parent, lstat],
    [real, stat],
  ] as const) {
    for (let d = dirname(dir); ; d = dirname(d)) {
      const problem = await ancestorProblem(d, look, expectedUid);
      if (problem !== undefined) return problem;
      if (dirname(d) === d) break;
    }
  }
  return undefined;
}

async function ancestorProblem(
  dir: string,
  look: typeof lstat | typeof stat,
  expectedUid: number,
): Promise<string | undefined> {
  const st = await statOf(dir, look);
  if (typeof st === "string") return st;
  if (st.uid !== expectedUid && st.uid !== 0) return `${dir} (above the socket) is owned by uid ${st.uid}`;
  if (st.isSymbolicLink()) return undefined; // its target is checked on the resolved walk
  const sharedButSafe = st.uid === 0 && (st.mode & 0o1000) !== 0;
  if ((st.mode & 0o022) !== 0 && !sharedButSafe)
    return `${dir} (above the socket) has mode 0${(st.mode & 0o7777).toString(8)}: writable by group or others`;
  return undefined;
}

type Stats = import("node:fs").Stats;

async function statOf(path: string, look: typeof lstat | typeof stat): Promise<Stats | string> {
  try {
    return (await look(path)) as Stats;
  } catch (err) {
    return `${path} cannot be inspected (${(err as NodeJS.ErrnoException).code ?? "error"})`;
  }
}
