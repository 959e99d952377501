import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";

/*
 * A V8 CPU profile of a timed section (--profile DIR), written as a .cpuprofile file (Chrome
 * DevTools opens it) and summed up on stderr: self time by function, and by package with native
 * frames (syscalls, SQLite) charged to their JavaScript caller.
 */
export async function profiled<T>(file: string | null, fn: () => Promise<T>): Promise<T> {
  if (!file) return fn();
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  try {
    return await fn();
  } finally {
    const { profile } = await session.post("Profiler.stop");
    session.disconnect();
    writeFileSync(file, JSON.stringify(profile));
    process.stderr.write(`bench: CPU profile written to ${file}; self time ${topSelfTime(profile as CpuProfile, 12)}\n`);
  }
}

export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  samples?: number[];
  timeDeltas?: number[];
}

const META_FRAMES = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);

/** "typeorm", "src/tickets", "node:internal"; "" for native frames. */
function packageOf(url: string): string {
  if (!url) return "";
  const mod = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (mod) return mod[1];
  const own = /dist\/((?:src|test)\/[^/]+)/.exec(url);
  if (own) return own[1];
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0]}`;
  return url;
}

/** Self time by function, and by package with native frames (syscalls, SQLite) charged to their JS caller. */
export function topSelfTime(profile: CpuProfile, n: number): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, us: number) => m.set(k, (m.get(k) ?? 0) + us);
  let total = 0;
  const samples = profile.samples ?? [];
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i]);
    if (!node) continue;
    const us = profile.timeDeltas?.[i] ?? 0;
    total += us;
    const f = node.callFrame;
    add(byFunction, `${f.functionName || "(anonymous)"}${f.url ? ` ${packageOf(f.url)}:${f.lineNumber + 1}` : ""}`, us);
    let owner = node;
    while (!owner.callFrame.url && !META_FRAMES.has(owner.callFrame.functionName) && parent.has(owner.id))
      owner = byId.get(parent.get(owner.id)!)!;
    add(byPackage, META_FRAMES.has(f.functionName) ? f.functionName : packageOf(owner.callFrame.url) || "(native)", us);
  }
  const list = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `  ${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`)
      .join("\n");
  return `by function:\n${list(byFunction)}\nby package:\n${list(byPackage)}`;
}
