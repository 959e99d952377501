import type { EntityManager, EntityTarget, ObjectLiteral } from "typeorm";
import type { ColumnMetadata } from "typeorm/metadata/ColumnMetadata.js";

/*
 * PostgreSQL: the rows one mail writes, in one statement and one round trip. Each INSERT is a
 * data-modifying WITH part; a column of a later part can take the id an earlier part returned
 * (a SQL expression such as `(SELECT "id" FROM t)`). PostgreSQL runs every such part exactly
 * once, whether the final SELECT reads it or not. Values are parameters with the column's type
 * cast on, since a VALUES list inside a SELECT does not take the types from the target table.
 */

type Row = Record<string, unknown>;

interface Part {
  name: string;
  sql: string;
}

export class InsertChain {
  private readonly parts: Part[] = [];
  private readonly params: unknown[] = [];

  constructor(private readonly em: EntityManager) {}

  has(name: string): boolean {
    return this.parts.some((p) => p.name === name);
  }

  private param(v: unknown, c: ColumnMetadata): string {
    this.params.push(this.em.connection.driver.preparePersistentValue(v, c));
    const type = (this.em.connection.driver as unknown as { normalizeType(c: ColumnMetadata): string }).normalizeType(c);
    return `$${this.params.length}::${type}`;
  }

  /** The columns written: all but a generated key, unless the rows bring their own (taken from the sequence before). */
  private columns(entity: EntityTarget<ObjectLiteral>, withKey: boolean): { table: string; cols: ColumnMetadata[] } {
    const meta = this.em.connection.getMetadata(entity);
    return { table: meta.tableName, cols: meta.columns.filter((c) => withKey || !(c.isPrimary && c.isGenerated)) };
  }

  /**
   * Adds `name AS (INSERT INTO table ... RETURNING returning)`. `refs` gives a column an SQL
   * expression instead of the row's value; it may name earlier parts and the row's own values
   * as v."column". A property left out takes the column's default, else NULL.
   */
  insert(name: string, entity: EntityTarget<ObjectLiteral>, rows: Row[], refs: Record<string, string> = {}, returning = ""): void {
    if (rows.length === 0) return;
    const { table, cols } = this.columns(entity, rows[0].id !== undefined);
    const tuples = rows.map((row) => {
      const values = cols.map((c) => {
        let v = refs[c.propertyName] !== undefined ? null : row[c.propertyName];
        if (v === undefined) v = typeof c.default === "function" ? null : (c.default ?? null);
        return this.param(v, c);
      });
      return `(${values.join(", ")})`;
    });
    const names = cols.map((c) => `"${c.databaseName}"`);
    const select = cols.map((c) => refs[c.propertyName] ?? `v."${c.databaseName}"`);
    this.parts.push({
      name,
      sql: `${name} AS (INSERT INTO "${table}" (${names.join(", ")}) SELECT ${select.join(", ")} FROM (VALUES ${tuples.join(", ")}) AS v(${names.join(", ")})${returning ? ` RETURNING ${returning}` : ""})`,
    });
  }

  /** Adds `name AS (UPDATE table SET … WHERE "id" = id)`. */
  update(name: string, entity: EntityTarget<ObjectLiteral>, id: number, patch: Row): void {
    const meta = this.em.connection.getMetadata(entity);
    const cols = meta.columns.filter((c) => patch[c.propertyName] !== undefined);
    if (cols.length === 0) return;
    const set = cols.map((c) => `"${c.databaseName}" = ${this.param(patch[c.propertyName], c)}`);
    const key = meta.columns.find((c) => c.propertyName === "id")!;
    this.parts.push({ name, sql: `${name} AS (UPDATE "${meta.tableName}" SET ${set.join(", ")} WHERE "id" = ${this.param(id, key)})` });
  }

  /** The next id of a table's generated key, taken from its sequence (the rows of a chain can then name it). */
  async nextId(entity: EntityTarget<ObjectLiteral>): Promise<number> {
    const table = this.em.connection.getMetadata(entity).tableName;
    const rows = (await this.em.query(`SELECT nextval(pg_get_serial_sequence($1, 'id')) AS "id"`, [`"${table}"`])) as Array<{ id: string }>;
    return Number(rows[0].id);
  }

  /** Runs every part and the final SELECT (expressions over the parts); returns its one row. */
  async run(select: Record<string, string>): Promise<Record<string, unknown>> {
    const list = Object.entries(select).map(([alias, expr]) => `${expr} AS "${alias}"`);
    const sql = `${this.parts.length ? `WITH ${this.parts.map((p) => p.sql).join(", ")} ` : ""}SELECT ${list.join(", ")}`;
    const rows = (await this.em.query(sql, this.params)) as Array<Record<string, unknown>>;
    return rows[0] ?? {};
  }
}
