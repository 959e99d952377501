import type { EntityManager, EntityTarget, ObjectLiteral } from "typeorm";
import type { ColumnMetadata } from "typeorm/metadata/ColumnMetadata.js";

/*
 * The hot path's statements, for the per-mail writes and reads only. TypeORM's repository calls
 * cost about as much CPU as the rest of a mail's processing (query building, entity
 * transformation) and inline ids and sizes into the SQL text, so every statement is new to
 * SQLite's statement cache and to PostgreSQL's parser. Here the SQL text depends only on the
 * entity and the number of rows, values are always parameters, and columns come from the entity
 * metadata (a column another migration adds is written too), with TypeORM's own value conversion
 * (dates, booleans, transformers), so rows read back through TypeORM exactly as before.
 */

type Row = Record<string, unknown>;

interface TableInfo {
  table: string;
  /** Columns written on insert: every column but a generated primary key. */
  insertable: ColumnMetadata[];
  all: ColumnMetadata[];
  generatedKey: ColumnMetadata | null;
  /** Insert statements by row count (and whether ids are returned). */
  inserts: Map<string, string>;
  selectList: string;
}

const infos = new WeakMap<object, Map<unknown, TableInfo>>();

/** SQL on the entity manager's connection (inside its transaction, if it has one). */
export class FastSql {
  readonly postgres: boolean;

  constructor(private readonly em: EntityManager) {
    this.postgres = em.connection.options.type === "postgres";
  }

  /** A parameter placeholder: `$n` for PostgreSQL, `?` for SQLite. */
  private ph(n: number): string {
    return this.postgres ? `$${n}` : "?";
  }

  quote(name: string): string {
    return `"${name}"`;
  }

  private info(entity: EntityTarget<ObjectLiteral>): TableInfo {
    let byEntity = infos.get(this.em.connection);
    if (!byEntity) infos.set(this.em.connection, (byEntity = new Map()));
    let info = byEntity.get(entity);
    if (!info) {
      const meta = this.em.connection.getMetadata(entity);
      const generatedKey = meta.columns.find((c) => c.isPrimary && c.isGenerated) ?? null;
      info = {
        table: meta.tableName,
        insertable: meta.columns.filter((c) => c !== generatedKey),
        all: meta.columns,
        generatedKey,
        inserts: new Map(),
        selectList: meta.columns.map((c) => this.quote(c.databaseName)).join(", "),
      };
      byEntity.set(entity, info);
    }
    return info;
  }

  /** A value as the driver stores it; a property left out takes the column's default, else NULL. */
  private persistent(c: ColumnMetadata, row: Row): unknown {
    let v = row[c.propertyName];
    if (v === undefined) v = typeof c.default === "function" ? null : (c.default ?? null);
    return this.em.connection.driver.preparePersistentValue(v, c);
  }

  /**
   * Inserts rows in one statement. With `ids`, returns the generated keys in row order (keys
   * come from a sequence or SQLite's rowid, both increasing in the order rows are inserted, so
   * sorting restores the order whatever order RETURNING reports them in).
   */
  async insert(entity: EntityTarget<ObjectLiteral>, rows: Row[], opts: { ids?: boolean } = {}): Promise<number[]> {
    if (rows.length === 0) return [];
    const t = this.info(entity);
    const wantIds = !!opts.ids && !!t.generatedKey;
    const key = `${rows.length}:${wantIds}`;
    let sql = t.inserts.get(key);
    if (!sql) {
      const cols = t.insertable.map((c) => this.quote(c.databaseName)).join(", ");
      let n = 0;
      const tuples = rows.map(() => `(${t.insertable.map(() => this.ph(++n)).join(", ")})`).join(", ");
      sql = `INSERT INTO ${this.quote(t.table)} (${cols}) VALUES ${tuples}${wantIds ? ` RETURNING ${this.quote(t.generatedKey!.databaseName)}` : ""}`;
      t.inserts.set(key, sql);
    }
    const params: unknown[] = [];
    for (const row of rows) for (const c of t.insertable) params.push(this.persistent(c, row));
    const res = await this.em.query(sql, params);
    if (!wantIds) return [];
    const name = t.generatedKey!.databaseName;
    return (res as Row[]).map((r) => Number(r[name])).sort((a, b) => a - b);
  }

  /** Sets columns of one row by its primary key `id`; the SQL text depends only on which columns. */
  async update(entity: EntityTarget<ObjectLiteral>, id: number, patch: Row): Promise<void> {
    const t = this.info(entity);
    const cols = t.all.filter((c) => patch[c.propertyName] !== undefined);
    if (cols.length === 0) return;
    const params = cols.map((c) => this.persistent(c, patch));
    let n = 0;
    const set = cols.map((c) => `${this.quote(c.databaseName)} = ${this.ph(++n)}`).join(", ");
    await this.em.query(`UPDATE ${this.quote(t.table)} SET ${set} WHERE "id" = ${this.ph(++n)}`, [...params, id]);
  }

  /** Runs a statement written for both engines with `?` placeholders; returns its rows (if any). */
  async run(sql: string, params: unknown[] = []): Promise<Row[]> {
    let text = sql;
    if (this.postgres) {
      let n = 0;
      text = sql.replace(/\?/g, () => `$${++n}`);
    }
    const res = await this.em.query(text, params);
    return Array.isArray(res) ? (res as Row[]) : [];
  }

  /**
   * A condition "column is one of these values" whose SQL text does not depend on how many there
   * are (one JSON or array parameter), so the statement is prepared once.
   */
  anyOf(column: string): string {
    return this.postgres ? `${this.quote(column)} = ANY(?)` : `${this.quote(column)} IN (SELECT value FROM json_each(?))`;
  }

  /** The parameter for anyOf. */
  list(values: Array<string | number>): unknown {
    return this.postgres ? values : JSON.stringify(values);
  }

  /** A Date as a parameter compared with a date column (SQLite stores them as UTC text). */
  persistentDate(d: Date): unknown {
    return this.em.connection.driver.preparePersistentValue(d, { type: Date } as unknown as ColumnMetadata);
  }

  /** A date column's value as read (SQLite: UTC text) as a Date. */
  hydratedDate(v: unknown): Date {
    return this.em.connection.driver.prepareHydratedValue(v, { type: Date } as unknown as ColumnMetadata) as Date;
  }

  /** Rows of an entity, hydrated as TypeORM would (dates, booleans, transformers). */
  async select<T extends ObjectLiteral>(entity: EntityTarget<T>, where: string, params: unknown[], tail = ""): Promise<T[]> {
    const t = this.info(entity);
    const rows = await this.run(`SELECT ${t.selectList} FROM ${this.quote(t.table)} WHERE ${where}${tail ? ` ${tail}` : ""}`, params);
    return rows.map((raw) => this.hydrate<T>(t, raw));
  }

  private hydrate<T>(t: TableInfo, raw: Row): T {
    const driver = this.em.connection.driver;
    const out: Row = {};
    for (const c of t.all) out[c.propertyName] = driver.prepareHydratedValue(raw[c.databaseName], c);
    return out as T;
  }
}
