// The influencer actors' settings (collector, metrics read, sink), read once from the environment.
import { hostname } from "node:os";
import type { PointsStream } from "../../src/domain/influencers/registry.ts";
import { globalKeys } from "../../src/domain/keys.ts";
import { databaseNameOf } from "../../src/warehouse/database.ts";
import { databaseUrlFromEnv } from "../../src/warehouse/db.ts";
import { type Env, readInt } from "../env.ts";

export interface InfluencerConfig {
  /** Base URL of the provider's profile API (Mockstagram locally). */
  providerUrl: string;
  /** Each provider request gives up after this long. */
  fetchTimeoutMs: number;
  /** Provider attempts per tick, all within the tick's interval. */
  fetchAttempts: number;
  stream: PointsStream;
  /** See `TickPrecisionMs` (src/domain/influencers/schedule.ts): 1000 for Upstash, 1 for the local broker. */
  tickPrecisionMs: number;
  sink: SinkConfig;
}

export interface SinkConfig {
  /** `INFLUENCER_SINK=off` leaves draining to another host. */
  enabled: boolean;
  group: string;
  /**
   * Stable per host (host name and port), so a restarted host finds the entries it had read but not yet
   * written. A host on an OS-chosen port (PORT=0) uses its pid: after a restart, its old entries are taken over
   * once they have been idle `claimIdleMs`.
   */
  consumer: string;
  /** Entries per read and per multi-row insert. */
  batchSize: number;
  /** How long one read waits for new entries. */
  blockMs: number;
  /**
   * After writing a batch less than half full, wait this long before reading again, so a steady trickle is
   * written in fewer, larger transactions (points land at most this much later). 0 writes every read at once.
   */
  lingerMs: number;
  /** Entries another consumer read this long ago without acknowledging are taken over (that consumer died). */
  claimIdleMs: number;
}

export function readInfluencerConfig(env: Env = process.env): InfluencerConfig {
  return {
    providerUrl: (env.INFLUENCER_PROVIDER_URL || "http://127.0.0.1:8083").replace(/\/+$/, ""),
    fetchTimeoutMs: readInt(env, "INFLUENCER_FETCH_TIMEOUT_MS", 2000, 1),
    fetchAttempts: readInt(env, "INFLUENCER_FETCH_ATTEMPTS", 3, 1),
    stream: {
      key: env.INFLUENCER_STREAM_KEY || globalKeys.influencerPoints(databaseNameOf(databaseUrlFromEnv(env))),
      maxLength: readInt(env, "INFLUENCER_STREAM_MAXLEN", 1_000_000, 1000),
    },
    tickPrecisionMs: readInt(env, "INFLUENCER_TICK_PRECISION_MS", 1000, 1),
    sink: {
      enabled: env.INFLUENCER_SINK !== "off",
      group: env.INFLUENCER_SINK_GROUP || "sink",
      consumer: env.INFLUENCER_SINK_CONSUMER || defaultConsumer(env.PORT),
      batchSize: readInt(env, "INFLUENCER_SINK_BATCH", 1000, 1),
      blockMs: readInt(env, "INFLUENCER_SINK_BLOCK_MS", 1000, 1),
      lingerMs: readInt(env, "INFLUENCER_SINK_LINGER_MS", 250, 0),
      claimIdleMs: readInt(env, "INFLUENCER_SINK_CLAIM_IDLE_MS", 30_000, 100),
    },
  };
}

function defaultConsumer(port: string | undefined): string {
  return port && port !== "0" ? `${hostname()}:${port}` : `${hostname()}:pid${process.pid}`;
}
