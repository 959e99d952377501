import type { DataSource } from "typeorm";

/*
 * Counting what the gateway asks of its database. TypeORM hands every query to its logger
 * whether logging is on or not, so a wrapper on the data source's logger sees them all: one
 * logged query is one round trip to the server (PostgreSQL) or one call into SQLite; a query text
 * may hold several statements (`;`-separated), each counted.
 */

export interface StatementCount<T = unknown> {
  result: T;
  /** Statements, by first keyword (BEGIN, START, SELECT, INSERT, …). */
  byVerb: Record<string, number>;
  statements: number;
  roundTrips: number;
  /** The texts logged while `log.trace` was true. */
  traced: string[];
}

/** Statements in a query text: parameters are never inlined, so `;` only separates statements. */
function splitStatements(query: string): string[] {
  return query.split(/;\s*(?=\S)/).filter((s) => s.trim().length > 0);
}

export async function countStatements<T>(db: DataSource, fn: (log: { trace: boolean }) => Promise<T>): Promise<StatementCount<T>> {
  const logger = db.logger;
  const original = logger.logQuery;
  const out: Omit<StatementCount<T>, "result"> = { byVerb: {}, statements: 0, roundTrips: 0, traced: [] };
  const log = { trace: false };
  logger.logQuery = function (query, parameters, runner) {
    out.roundTrips++;
    for (const s of splitStatements(query)) {
      const verb = /^\s*(\w+)/.exec(s)?.[1]?.toUpperCase() ?? "?";
      out.byVerb[verb] = (out.byVerb[verb] ?? 0) + 1;
      out.statements++;
    }
    if (log.trace)
      out.traced.push(`${query.replace(/\s+/g, " ").slice(0, 400)}${parameters?.length ? `  -- ${parameters.length} parameter(s)` : ""}`);
    return original.call(this, query, parameters, runner);
  };
  try {
    return { result: await fn(log), ...out };
  } finally {
    logger.logQuery = original;
  }
}
