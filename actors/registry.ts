// Every actor the host serves. A new actor: a file under actors/ and one line here.
import { createCollectorActor } from "./collector.ts";
import type { AnyActor } from "./define.ts";
import { importActor } from "./import.ts";
import { influencerMetricsActor } from "./influencer-metrics.ts";
import { readInfluencerConfig } from "./influencers/config.ts";
import { ingestActor } from "./ingest.ts";
import { readMonitorConfig } from "./monitor/config.ts";
import { createMonitorActor } from "./monitor.ts";
import { pingActor } from "./ping.ts";
import { queryActor } from "./query.ts";
import { queryFailedActor } from "./query-failed.ts";
import { tenantSyncActor } from "./tenant-sync.ts";

export const actors: readonly AnyActor[] = [
  pingActor,
  tenantSyncActor,
  ingestActor,
  queryActor,
  queryFailedActor,
  createCollectorActor(readInfluencerConfig()),
  influencerMetricsActor,
  importActor,
  createMonitorActor(readMonitorConfig()),
];
