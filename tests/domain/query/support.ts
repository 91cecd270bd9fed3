// Shared by the query tests: a migrated throwaway warehouse, events, and the answer computed by brute force.

import { compileQuery, decodeRows, type Query, type ResultRow } from "../../../src/domain/query/index.ts";
import { openWarehouse, type Warehouse } from "../../../src/warehouse/db.ts";
import { migrate } from "../../../src/warehouse/migrate.ts";
import { ensurePartitions } from "../../../src/warehouse/partitions.ts";
import { type EventToStore, eventDaySpan, insertEventsWithRollups } from "../../../src/warehouse/rollups.ts";
import { throwawayDatabase } from "../../warehouse/helpers.ts";

export interface TestWarehouse {
  wh: Warehouse;
  /** The throwaway database's URL. */
  url: string;
  /** Stores events for a tenant through the ingest write (raw + rollups); returns how many were new. */
  store(tenantId: string, events: readonly EventToStore[]): Promise<number>;
  /**
   * Compiles and runs a query; `useRollups: false` forces raw events. `clock` is the wall clock the minute
   * rollup's window is measured from (`now` when not given; `store` fills every rollup, so any clock fits it).
   */
  run(
    query: Query,
    tenantId: string,
    now: number,
    useRollups?: boolean,
    clock?: number,
  ): Promise<{ rows: ResultRow[]; source: string }>;
  close(): Promise<void>;
}

/** A migrated database of its own, dropped by `close`. */
export async function openTestWarehouse(): Promise<TestWarehouse> {
  const target = throwawayDatabase();
  await migrate(target.url);
  const wh = openWarehouse(target.url, { max: 2 });
  const partitioned = new Set<string>();
  return {
    wh,
    url: target.url,
    async store(tenantId, events) {
      const span = eventDaySpan(events);
      if (span && !partitioned.has(span.join())) {
        await ensurePartitions(wh.db, "ad_events", span[0], span[1]);
        await ensurePartitions(wh.db, "ad_rollup_minute", span[0], span[1]);
        partitioned.add(span.join());
      }
      return (await insertEventsWithRollups(wh.db, tenantId, events)).inserted;
    },
    async run(query, tenantId, now, useRollups = true, clock = now) {
      const compiled = compileQuery(query, { tenantId, now, useRollups, clock });
      const rows = await wh.sql.unsafe(compiled.text, compiled.params as never[]);
      return { rows: decodeRows(compiled.columns, rows), source: compiled.source };
    },
    async close() {
      await wh.close();
      await target.drop();
    },
  };
}
