/**
 * The Fairway warehouse, as code. `drizzle-kit generate` turns this file into the SQL under `migrations/`.
 *
 * Rules every table follows:
 * - `tenant_id` leads every primary key and index, so each table can be distributed by tenant (Citus) and
 *   every tenant-scoped lookup is an index range scan. `tenants` itself is keyed by `id` (the tenant id).
 * - Raw events, minute rollups and influencer points are partitioned by UTC day on their time column.
 *   drizzle-kit cannot express partitioning, so the generated migration was edited to add
 *   `PARTITION BY RANGE (...)`; partitions are created by `fairway_ensure_day_partitions` (see
 *   `partitions.ts`). Those tables are listed in `DAY_PARTITIONED_TABLES`.
 * - Hot write paths (events, rollups, points) carry no foreign keys: they would cost a lookup per row.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  char,
  check,
  doublePrecision,
  foreignKey,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

/** Timestamps are always `timestamptz`, read as `Date`. */
const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
/** Money: exact decimal, read as a string so no precision is lost in transit. */
const money = (name: string) => numeric(name, { precision: 18, scale: 6, mode: "string" });
/** Counters: bigint in Postgres, number in TypeScript (exact up to 2^53). */
const counter = (name: string) => bigint(name, { mode: "number" });

export const EVENT_KINDS = ["impression", "view", "click", "conversion"] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export const IMPORT_STATUSES = ["queued", "running", "completed", "completed_with_errors", "failed"] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

/** Renders a TS list as a SQL `IN (...)` list of literals for a check constraint (values are constants). */
const sqlList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(", "));

export const tenants = pgTable(
  "tenants",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    /** SHA-256 of the API key, lowercase hex. The key itself is shown once and never stored. */
    apiKeyHash: text("api_key_hash").notNull(),
    /** How many warehouse queries the tenant may run at once. */
    concurrencyLimit: integer("concurrency_limit").notNull().default(4),
    /** Requests allowed per `rateLimitWindowSeconds`. */
    rateLimit: integer("rate_limit").notNull().default(600),
    rateLimitWindowSeconds: integer("rate_limit_window_seconds").notNull().default(60),
    createdAt: tstz("created_at").notNull().defaultNow(),
    disabledAt: tstz("disabled_at"),
  },
  (t) => [
    // Authentication looks tenants up by key hash; tenants is a small reference table, not distributed.
    uniqueIndex("tenants_api_key_hash_key").on(t.apiKeyHash),
    check("tenants_api_key_hash_hex", sql`${t.apiKeyHash} ~ '^[0-9a-f]{64}$'`),
    check("tenants_concurrency_limit_positive", sql`${t.concurrencyLimit} > 0`),
    check("tenants_rate_limit_positive", sql`${t.rateLimit} > 0 AND ${t.rateLimitWindowSeconds} > 0`),
  ],
);

/** Raw ad events, partitioned by day on `ts`. Inserts use `ON CONFLICT DO NOTHING` on the primary key. */
export const adEvents = pgTable(
  "ad_events",
  {
    tenantId: text("tenant_id").notNull(),
    eventId: text("event_id").notNull(),
    ts: tstz("ts").notNull(),
    kind: text("kind").$type<EventKind>().notNull(),
    channel: text("channel").notNull(),
    campaign: text("campaign").notNull(),
    ad: text("ad").notNull(),
    country: char("country", { length: 2 }).notNull(),
    city: text("city").notNull(),
    cost: money("cost").notNull().default("0"),
    revenue: money("revenue").notNull().default("0"),
    receivedAt: tstz("received_at").notNull().defaultNow(),
  },
  (t) => [
    // The partition key (ts) must be part of the primary key of a partitioned table.
    primaryKey({ columns: [t.tenantId, t.eventId, t.ts] }),
    // Time-range scans per tenant (queries that no rollup can answer, reconciliation).
    index("ad_events_tenant_ts_idx").on(t.tenantId, t.ts),
    check("ad_events_kind_known", sql`${t.kind} IN (${sqlList(EVENT_KINDS)})`),
  ],
);

/** What every rollup row holds per bucket and key: the base measures, added to by each fold. */
const rollupMeasures = () => ({
  impressions: counter("impressions").notNull().default(0),
  views: counter("views").notNull().default(0),
  clicks: counter("clicks").notNull().default(0),
  conversions: counter("conversions").notNull().default(0),
  spend: money("spend").notNull().default("0"),
  revenue: money("revenue").notNull().default("0"),
});

/** One rollup table per grain, keyed by every dimension; the ingest actor upserts by adding to the counters. */
const rollup = (name: string) =>
  pgTable(
    name,
    {
      tenantId: text("tenant_id").notNull(),
      /** Start of the bucket (minute, hour or day), in UTC. */
      bucket: tstz("bucket").notNull(),
      channel: text("channel").notNull(),
      campaign: text("campaign").notNull(),
      ad: text("ad").notNull(),
      country: char("country", { length: 2 }).notNull(),
      city: text("city").notNull(),
      ...rollupMeasures(),
    },
    (t) => [primaryKey({ columns: [t.tenantId, t.bucket, t.channel, t.campaign, t.ad, t.country, t.city] })],
  );

/** Partitioned by day on `bucket`. */
export const adRollupMinute = rollup("ad_rollup_minute");
export const adRollupHour = rollup("ad_rollup_hour");
export const adRollupDay = rollup("ad_rollup_day");

/**
 * The day rollup keeping only the low-cardinality dimensions (no `ad`, no `city`): a few hundred rows per
 * tenant and day where `ad_rollup_day` has thousands, so day, week and month questions about channels,
 * campaigns and countries aggregate that many fewer rows. Folded in the same statement as the others.
 */
export const adRollupDayCampaign = pgTable(
  "ad_rollup_day_campaign",
  {
    tenantId: text("tenant_id").notNull(),
    /** Start of the UTC day. */
    bucket: tstz("bucket").notNull(),
    channel: text("channel").notNull(),
    campaign: text("campaign").notNull(),
    country: char("country", { length: 2 }).notNull(),
    ...rollupMeasures(),
  },
  // Named: the generated name would pass Postgres's 63-character limit and be cut.
  (t) => [
    primaryKey({
      name: "ad_rollup_day_campaign_pk",
      columns: [t.tenantId, t.bucket, t.channel, t.campaign, t.country],
    }),
  ],
);

/** One batch's leaderboard tally, `[epochMinute, ad, clicks, impressions, conversions, spendMicros]` per row. */
export type LeaderboardTallyRow = [number, string, number, number, number, number];

/**
 * Leaderboard increments of ingest attempts that committed but whose Redis update may not have happened yet:
 * written by the same statement as the events, deleted once applied. A redelivered batch applies what a
 * crashed attempt left here; each attempt's marker in Redis keeps its increments from being added twice.
 */
export const leaderboardOutbox = pgTable(
  "leaderboard_outbox",
  {
    tenantId: text("tenant_id").notNull(),
    /** One per ingest attempt; also names the attempt's marker in Redis. */
    attemptId: text("attempt_id").notNull(),
    batchId: text("batch_id").notNull(),
    tally: jsonb("tally").$type<LeaderboardTallyRow[]>().notNull(),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.attemptId] }),
    // A redelivered batch looks up what earlier attempts of the same batch left.
    index("leaderboard_outbox_batch_idx").on(t.tenantId, t.batchId),
  ],
);

/** Influencers a tenant tracks, and the collector's last word on each. */
export const influencers = pgTable(
  "influencers",
  {
    tenantId: text("tenant_id").notNull(),
    influencerId: text("influencer_id").notNull(),
    intervalSeconds: integer("interval_seconds").notNull().default(60),
    status: text("status").notNull().default("active"),
    createdAt: tstz("created_at").notNull().defaultNow(),
    lastSeenAt: tstz("last_seen_at"),
    lastError: text("last_error"),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.influencerId] }),
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id] }).onDelete("cascade"),
    check("influencers_interval_positive", sql`${t.intervalSeconds} > 0`),
  ],
);

/** Influencer counters over time, partitioned by day on `ts`. A repeated (influencer, ts) is ignored. */
export const influencerMetrics = pgTable(
  "influencer_metrics",
  {
    tenantId: text("tenant_id").notNull(),
    influencerId: text("influencer_id").notNull(),
    ts: tstz("ts").notNull(),
    // Nullable: a provider may not report every counter.
    followers: counter("followers"),
    following: counter("following"),
    posts: counter("posts"),
    likes: counter("likes"),
    comments: counter("comments"),
    views: counter("views"),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.influencerId, t.ts] })],
);

/** A CSV import: progress counters are advanced by the import actor as chunks land. */
export const imports = pgTable(
  "imports",
  {
    tenantId: text("tenant_id").notNull(),
    id: text("id").notNull(),
    status: text("status").$type<ImportStatus>().notNull().default("queued"),
    fileName: text("file_name"),
    bytes: counter("bytes").notNull().default(0),
    /** Unknown (null) until the whole body has been read and cut into chunks. */
    chunksTotal: integer("chunks_total"),
    chunksDone: integer("chunks_done").notNull().default(0),
    rowsAccepted: counter("rows_accepted").notNull().default(0),
    rowsRejected: counter("rows_rejected").notNull().default(0),
    /** Share of rejected rows (0..1) above which the import ends `failed`. */
    maxRejectRatio: doublePrecision("max_reject_ratio").notNull().default(0.1),
    /** CSV header name -> event field, for files whose headers differ from the field names. */
    columnMapping: jsonb("column_mapping").$type<Record<string, string>>(),
    error: text("error"),
    createdAt: tstz("created_at").notNull().defaultNow(),
    startedAt: tstz("started_at"),
    finishedAt: tstz("finished_at"),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id] }).onDelete("cascade"),
    // `GET /v1/imports` lists a tenant's imports, newest first.
    index("imports_tenant_created_idx").on(t.tenantId, t.createdAt),
    check("imports_status_known", sql`${t.status} IN (${sqlList(IMPORT_STATUSES)})`),
    check("imports_max_reject_ratio_range", sql`${t.maxRejectRatio} >= 0 AND ${t.maxRejectRatio} <= 1`),
  ],
);

/** One row per chunk that landed: inserting it first makes a redelivered chunk count once. */
export const importChunks = pgTable(
  "import_chunks",
  {
    tenantId: text("tenant_id").notNull(),
    importId: text("import_id").notNull(),
    chunk: integer("chunk").notNull(),
    rowsAccepted: integer("rows_accepted").notNull().default(0),
    rowsRejected: integer("rows_rejected").notNull().default(0),
    doneAt: tstz("done_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.importId, t.chunk] }),
    foreignKey({
      columns: [t.tenantId, t.importId],
      foreignColumns: [imports.tenantId, imports.id],
    }).onDelete("cascade"),
  ],
);

/** Rejected CSV rows. `column` is '' when the whole row was rejected (e.g. a ragged row). */
export const importErrors = pgTable(
  "import_errors",
  {
    tenantId: text("tenant_id").notNull(),
    importId: text("import_id").notNull(),
    line: integer("line").notNull(),
    column: text("column").notNull().default(""),
    reason: text("reason").notNull(),
    raw: text("raw"),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.importId, t.line, t.column] }),
    foreignKey({
      columns: [t.tenantId, t.importId],
      foreignColumns: [imports.tenantId, imports.id],
    }).onDelete("cascade"),
  ],
);

/** Tables partitioned by UTC day, and the column each is partitioned on. */
export const DAY_PARTITIONED_TABLES = {
  ad_events: "ts",
  ad_rollup_minute: "bucket",
  influencer_metrics: "ts",
} as const;
export type DayPartitionedTable = keyof typeof DAY_PARTITIONED_TABLES;

export type Tenant = typeof tenants.$inferSelect;
export type NewTenant = typeof tenants.$inferInsert;
export type AdEvent = typeof adEvents.$inferSelect;
export type NewAdEvent = typeof adEvents.$inferInsert;
export type AdRollup = typeof adRollupMinute.$inferSelect;
export type NewAdRollup = typeof adRollupMinute.$inferInsert;
export type Influencer = typeof influencers.$inferSelect;
export type NewInfluencer = typeof influencers.$inferInsert;
export type InfluencerMetric = typeof influencerMetrics.$inferSelect;
export type NewInfluencerMetric = typeof influencerMetrics.$inferInsert;
export type Import = typeof imports.$inferSelect;
export type NewImport = typeof imports.$inferInsert;
export type ImportChunk = typeof importChunks.$inferSelect;
export type NewImportChunk = typeof importChunks.$inferInsert;
export type LeaderboardOutboxRow = typeof leaderboardOutbox.$inferSelect;
export type ImportError = typeof importErrors.$inferSelect;
export type NewImportError = typeof importErrors.$inferInsert;
