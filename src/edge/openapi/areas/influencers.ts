// Influencer tracking in the OpenAPI document. The POST body is the route's own schema, built with the
// deployment's interval and batch bounds; ids, counters and resolutions are the domain's.
import { z } from "zod";
import { COUNTERS, influencerId } from "../../../domain/influencers/ids.ts";
import { RESOLUTIONS } from "../../../domain/influencers/messages.ts";
import type { InfluencerStatus, RegisterVerdict } from "../../../domain/influencers/registry.ts";
import { trackInfluencersBody } from "../../routes/influencers.ts";
import type { InfluencerSettings } from "../../services/influencer-settings.ts";
import { type DocArea, TENANT_ERRORS } from "../document.ts";

// Records keyed by the union types, so a new status or verdict fails to compile until it is listed here.
const STATUSES: Record<InfluencerStatus, InfluencerStatus> = {
  pending: "pending",
  active: "active",
  failing: "failing",
  stalled: "stalled",
  stopped: "stopped",
};
const VERDICTS: Record<RegisterVerdict, RegisterVerdict> = {
  created: "created",
  restarted: "restarted",
  revived: "revived",
  updated: "updated",
  unchanged: "unchanged",
};

const iso = z.string().meta({ format: "date-time" });

export const influencerView = z.object({
  id: z.string(),
  status: z.enum(STATUSES),
  intervalSeconds: z.number().int(),
  createdAt: iso,
  lastSeenAt: iso.nullable(),
  lastPointAt: iso.nullable(),
  nextTickAt: iso.nullable(),
  lastError: z.string().nullable(),
  lastErrorAt: iso.nullable(),
  points: z.number().int(),
  missed: z.number().int(),
  failures: z.number().int(),
});

export const trackingResult = z.object({
  intervalSeconds: z.number().int(),
  influencers: z.array(z.object({ id: z.string(), result: z.enum(VERDICTS), nextCollectionAt: iso })),
});

export const influencerList = z.object({
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
  influencers: z.array(influencerView),
});

export const influencerStopped = z.object({ id: z.string(), status: z.literal("stopped") });

const counterValues = Object.fromEntries(COUNTERS.map((name) => [name, z.number().nullable()]));
const counterSummaries = Object.fromEntries(
  COUNTERS.map((name) => [
    name,
    z.object({
      last: z.number().nullable(),
      min: z.number().nullable(),
      max: z.number().nullable(),
      change: z.number().nullable(),
    }),
  ]),
);
const seriesHeader = { influencerId: z.string(), resolution: z.enum(RESOLUTIONS), start: iso, end: iso };

export const influencerMetrics = z.union([
  z
    .object({
      ...seriesHeader,
      resolution: z.literal("raw"),
      points: z.array(z.object({ ts: iso, ...counterValues, engagementRate: z.number().nullable() })),
    })
    .meta({ description: "`raw`: every reading" }),
  z
    .object({
      ...seriesHeader,
      bucketSeconds: z.number().int(),
      buckets: z.array(
        z.object({
          start: iso,
          points: z.number().int(),
          ...counterSummaries,
          engagementRate: z.number().nullable(),
        }),
      ),
    })
    .meta({ description: "`1m`, `1h`, `1d`: one bucket per interval" }),
]);

const ID = {
  name: "id",
  in: "path" as const,
  required: true,
  description: "Influencer id",
  schema: influencerId,
};
const BAD_ID = { 400: { description: "A bad id or parameter; `fields` names it", schema: "Error" } };
const NOT_FOUND = { 404: { description: "No such influencer for this tenant", schema: "Error" } };

export function influencersDocs(settings: InfluencerSettings): DocArea {
  return {
    components: {
      TrackInfluencers: trackInfluencersBody(settings.minIntervalSeconds, settings.maxIdsPerRequest),
      TrackingResult: trackingResult,
      Influencer: influencerView,
      InfluencerList: influencerList,
      InfluencerMetrics: influencerMetrics,
      InfluencerStopped: influencerStopped,
    },
    operations: [
      {
        method: "post",
        path: "/v1/influencers",
        summary: "Start (or change) tracking influencers",
        description: `Each id is polled every \`intervalSeconds\` (default ${settings.defaultIntervalSeconds}).`,
        tags: ["influencers"],
        security: "tenant",
        requestBody: "TrackInfluencers",
        responses: {
          200: { description: "Nothing new started (updated or unchanged)", schema: "TrackingResult" },
          201: { description: "At least one started", schema: "TrackingResult" },
          400: { description: "Invalid body; `fields` names each problem", schema: "Error" },
          413: { description: "Body larger than 128 KiB", schema: "Error" },
          ...TENANT_ERRORS,
        },
      },
      {
        method: "get",
        path: "/v1/influencers",
        summary: "The tenant's influencers and their last-seen state",
        tags: ["influencers"],
        security: "tenant",
        parameters: [
          {
            name: "limit",
            in: "query",
            description: "Page size (default 100)",
            schema: z.number().int().min(1).max(1000),
          },
          { name: "offset", in: "query", description: "Skip this many", schema: z.number().int().min(0) },
        ],
        responses: {
          200: { description: "A page", schema: "InfluencerList" },
          ...BAD_ID,
          ...TENANT_ERRORS,
        },
      },
      {
        method: "get",
        path: "/v1/influencers/{id}",
        summary: "One influencer's state",
        tags: ["influencers"],
        security: "tenant",
        parameters: [ID],
        responses: {
          200: { description: "The influencer", schema: "Influencer" },
          ...BAD_ID,
          ...NOT_FOUND,
          ...TENANT_ERRORS,
        },
      },
      {
        method: "delete",
        path: "/v1/influencers/{id}",
        summary: "Stop tracking; the influencer stays listed and its metrics readable",
        tags: ["influencers"],
        security: "tenant",
        parameters: [ID],
        responses: {
          200: {
            description: "Stopped",
            schema: "InfluencerStopped",
          },
          ...BAD_ID,
          ...NOT_FOUND,
          ...TENANT_ERRORS,
        },
      },
      {
        method: "get",
        path: "/v1/influencers/{id}/metrics",
        summary: "One influencer's series, raw or in buckets",
        tags: ["influencers"],
        security: "tenant",
        parameters: [
          ID,
          {
            name: "start_time",
            in: "query",
            description:
              "ISO 8601 with a zone (a bare date is UTC midnight) or epoch seconds; default a day before end_time",
            schema: z.string(),
          },
          { name: "end_time", in: "query", description: "As start_time; default now", schema: z.string() },
          {
            name: "resolution",
            in: "query",
            description: "Default: the finest one whose range limit covers the range",
            schema: z.enum(RESOLUTIONS),
          },
        ],
        responses: {
          200: { description: "The series", schema: "InfluencerMetrics" },
          ...BAD_ID,
          ...NOT_FOUND,
          ...TENANT_ERRORS,
          503: { description: "Redis, QStash or the warehouse did not answer; try again", schema: "Error" },
        },
      },
    ],
  };
}
