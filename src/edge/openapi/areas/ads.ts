// The live ad endpoints in the OpenAPI document: their parameters are bounded by the leaderboard's own
// constants, so the document moves when they do.
import { z } from "zod";
import {
  DEFAULT_TOP_LIMIT,
  LEADERBOARD_METRICS,
  MAX_TOP_LIMIT,
  MAX_WINDOW_MINUTES,
} from "../../../domain/leaderboard/index.ts";
import { type DocArea, TENANT_ERRORS } from "../document.ts";

const span = {
  window: z.string().meta({ example: "5m" }),
  from: z.string().meta({ format: "date-time" }),
  to: z.string().meta({ format: "date-time", description: "The end of the current minute" }),
};

export const topAdsResult = z.object({
  data: z.array(
    z
      .object({ rank: z.number().int(), ad: z.string() })
      .catchall(z.number())
      .meta({ description: "The metric's value is under the metric's name, e.g. `clicks`" }),
  ),
  meta: z.object({ metric: z.enum(LEADERBOARD_METRICS), limit: z.number().int(), ...span }),
});

export const adClicksResult = z.object({
  data: z.object({
    ad: z.string(),
    clicks: z.number().int(),
    perMinute: z.array(
      z.object({ minute: z.string().meta({ format: "date-time" }), clicks: z.number().int() }),
    ),
  }),
  meta: z.object(span),
});

const WINDOW = {
  name: "window",
  in: "query" as const,
  description: `The current minute and the ones before it: \`5m\`, \`5\` (minutes) or \`1h\`; 1 to ${MAX_WINDOW_MINUTES} minutes (default 1)`,
  schema: z.string().meta({ example: "5m" }),
};
const ERRORS = {
  400: { description: "A bad parameter; `fields` names each", schema: "Error" },
  ...TENANT_ERRORS,
};

export const adsDocs: DocArea = {
  components: { TopAds: topAdsResult, AdClicks: adClicksResult },
  operations: [
    {
      method: "get",
      path: "/v1/ads/top",
      summary: "The best ads over the last minutes, live",
      tags: ["ads"],
      security: "tenant",
      parameters: [
        WINDOW,
        {
          name: "metric",
          in: "query",
          description: "What to rank by (default clicks)",
          schema: z.enum(LEADERBOARD_METRICS),
        },
        {
          name: "limit",
          in: "query",
          description: `How many ads (default ${DEFAULT_TOP_LIMIT})`,
          schema: z.number().int().min(1).max(MAX_TOP_LIMIT),
        },
      ],
      responses: { 200: { description: "Ranked ads", schema: "TopAds" }, ...ERRORS },
    },
    {
      method: "get",
      path: "/v1/ads/{ad}/clicks",
      summary: "One ad's clicks over the last minutes, minute by minute",
      tags: ["ads"],
      security: "tenant",
      parameters: [
        { name: "ad", in: "path", required: true, description: "Ad id", schema: z.string().min(1).max(128) },
        WINDOW,
      ],
      responses: { 200: { description: "The clicks", schema: "AdClicks" }, ...ERRORS },
    },
  ],
};
