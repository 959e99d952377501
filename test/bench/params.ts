/*
 * The benchmark's command line: phases and sizes (--quick, --n, --only, …).
 */

export const PHASES = ["bound", "ingest", "latency", "memory", "mailboxes"] as const;
export type Phase = (typeof PHASES)[number];

// ---------------------------------------------------------------- arguments

export interface Params {
  quick: boolean;
  json: boolean;
  n: number;
  seed: number;
  latencyMails: number;
  bigAttachmentMB: number;
  backlogMails: number;
  /** Fixed-pace latency run: one mail every paceMs. */
  paceMs: number;
  /** Isolated latency run: this many mails, each after a quiet pause. */
  isolatedMails: number;
  isolatedPauseMs: number;
  batchSize: number;
  phases: Phase[];
  profileDir: string | null;
}

export function parseArgs(argv: string[]): Params {
  const has = (f: string) => argv.includes(f);
  const value = (f: string): string | undefined => {
    const i = argv.indexOf(f);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const int = (f: string, def: number): number => {
    const v = value(f);
    if (v === undefined) return def;
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`${f} wants a whole number ≥ 1, got ${v}`);
    return Number(v);
  };
  const known = new Set(["--quick", "--json", "--n", "--seed", "--only", "--profile", "--help"]);
  for (let i = 0; i < argv.length; i++) {
    if (!known.has(argv[i])) throw new Error(`unknown argument ${argv[i]}`);
    if (["--n", "--seed", "--only", "--profile"].includes(argv[i])) i++;
  }
  if (has("--help")) {
    console.log(
      "usage: node dist/test/bench/bench.js [--quick] [--json] [--n N] [--seed S] [--only bound,ingest,latency,memory,mailboxes] [--profile DIR]",
    );
    process.exit(0);
  }
  const quick = has("--quick");
  const only = value("--only")
    ?.split(",")
    .map((s) => s.trim()) ?? [...PHASES];
  for (const p of only) if (!PHASES.includes(p as Phase)) throw new Error(`--only: unknown phase ${p} (${PHASES.join(", ")})`);
  return {
    quick,
    json: has("--json"),
    n: int("--n", quick ? 200 : 2000),
    seed: int("--seed", 1),
    latencyMails: quick ? 30 : 200,
    bigAttachmentMB: quick ? 10 : 50,
    backlogMails: quick ? 1000 : 10_000,
    paceMs: 50,
    isolatedMails: quick ? 10 : 40,
    // Longer than the poller's 2 s re-check after mail (imap.recheckMs), so the gateway is idling in IDLE.
    isolatedPauseMs: 2500,
    batchSize: 50,
    phases: only as Phase[],
    profileDir: value("--profile") ?? null,
  };
}
