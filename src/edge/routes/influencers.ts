// Influencer tracking: register ids to poll (POST), stop one (DELETE), list them with their last-seen state
// (GET), and read one's series (GET …/metrics). The registry lives in Redis under the tenant's hash tag, so
// another tenant's influencer is simply not found; the series comes from the warehouse through the
// `influencer-metrics` actor, because the edge never opens Postgres.
import type { Context, Hono } from "hono";
import { z } from "zod";
import { influencerId } from "../../domain/influencers/ids.ts";
import type { InfluencerMetricsRequest } from "../../domain/influencers/messages.ts";
import { getInfluencer, listInfluencers, stopInfluencer } from "../../domain/influencers/registry.ts";
import { parseMetricsRange } from "../../domain/influencers/time-range.ts";
import { startTracking } from "../../domain/influencers/tracking.ts";
import type { EdgeEnv, EdgeServices } from "../context.ts";
import { ApiError } from "../errors.ts";
import { redisReply, tenantAuth } from "../middleware/tenant-auth.ts";
import { ActorCallError, callActor } from "../services/actor-call.ts";
import { influencerSettings, MAX_INTERVAL_SECONDS } from "../services/influencer-settings.ts";
import { readJsonBody } from "../services/json-body.ts";
import { validate } from "./admin-tenants.ts";

const BODY_BYTES = 128 * 1024;
const LIST_LIMIT = { default: 100, max: 1000 };

/** The POST body; bounds depend on the deployment's settings. */
export function trackInfluencersBody(minIntervalSeconds: number, maxIds: number) {
  const interval = `must be an integer from ${minIntervalSeconds} to ${MAX_INTERVAL_SECONDS}`;
  return z.strictObject({
    ids: z
      .array(influencerId, { error: "must be an array of influencer ids" })
      .min(1, { error: "must name at least one influencer" })
      .max(maxIds, { error: `must name at most ${maxIds} influencers` })
      .refine((ids) => new Set(ids).size === ids.length, { error: "must not repeat an id" }),
    intervalSeconds: z
      .number({ error: interval })
      .int({ error: interval })
      .min(minIntervalSeconds, { error: interval })
      .max(MAX_INTERVAL_SECONDS, { error: interval })
      .optional(),
  });
}

export function registerInfluencers(app: Hono<EdgeEnv>, services: EdgeServices): void {
  const settings = influencerSettings(services);
  const body = trackInfluencersBody(settings.minIntervalSeconds, settings.maxIdsPerRequest);
  const auth = tenantAuth(services);

  app.post("/v1/influencers", auth, async (c) => {
    const request = validate(body, await readJsonBody(c, BODY_BYTES));
    const publisher = services.publisher;
    if (!publisher) {
      throw new ApiError(
        503,
        "publisher_not_configured",
        "Tracking needs QStash: QSTASH_TOKEN is not configured",
      );
    }
    const intervalSeconds = request.intervalSeconds ?? settings.defaultIntervalSeconds;
    const { registrations, unpublished } = await redisReply(
      startTracking(
        services.redis,
        ({ body, ...options }) => publisher.publish({ actor: "collector", body, ...options }),
        {
          tenantId: c.get("tenant").id,
          influencerIds: request.ids,
          intervalSeconds,
          precisionMs: settings.tickPrecisionMs,
          now: Date.now(),
        },
      ),
    );
    if (unpublished.length > 0) {
      throw new ApiError(
        503,
        "publisher_unavailable",
        `Registered, but the first collection of ${unpublished.length} influencer(s) could not be scheduled: ${unpublished[0]?.error}. Send the same request again.`,
        { influencerIds: unpublished.map((u) => u.influencerId) },
      );
    }
    const started = registrations.some(
      (r) => r.verdict === "created" || r.verdict === "restarted" || r.verdict === "revived",
    );
    return c.json(
      {
        intervalSeconds,
        influencers: registrations.map((r) => ({
          id: r.influencerId,
          result: r.verdict,
          nextCollectionAt: new Date(r.nextTickAt).toISOString(),
        })),
      },
      started ? 201 : 200,
    );
  });

  app.get("/v1/influencers", auth, async (c) => {
    const limit = intParam(c, "limit", LIST_LIMIT.default, 1, LIST_LIMIT.max);
    const offset = intParam(c, "offset", 0, 0, Number.MAX_SAFE_INTEGER);
    const page = await redisReply(
      listInfluencers(services.redis, c.get("tenant").id, { offset, limit, now: Date.now() }),
    );
    return c.json({ total: page.total, limit, offset, influencers: page.influencers });
  });

  app.get("/v1/influencers/:id", auth, async (c) => {
    const id = idParam(c);
    const view = await redisReply(getInfluencer(services.redis, c.get("tenant").id, id, Date.now()));
    if (!view) throw notFound(id);
    return c.json(view);
  });

  app.delete("/v1/influencers/:id", auth, async (c) => {
    const id = idParam(c);
    const verdict = await redisReply(stopInfluencer(services.redis, c.get("tenant").id, id, Date.now()));
    if (verdict === "missing") throw notFound(id);
    // Collection ends at the loop's next tick; the influencer stays listed and its metrics readable.
    return c.json({ id, status: "stopped" });
  });

  app.get("/v1/influencers/:id/metrics", auth, async (c) => {
    const id = idParam(c);
    const range = parseMetricsRange(
      {
        start_time: c.req.query("start_time"),
        end_time: c.req.query("end_time"),
        resolution: c.req.query("resolution"),
      },
      Date.now(),
    );
    if (!range.ok) {
      throw new ApiError(400, "invalid_request", `${range.field}: ${range.message}`, {
        fields: [{ field: range.field, message: range.message }],
      });
    }
    const tenantId = c.get("tenant").id;
    if (!(await redisReply(getInfluencer(services.redis, tenantId, id, Date.now())))) throw notFound(id);
    const message: InfluencerMetricsRequest = { tenantId, influencerId: id, ...range.value };
    let reply: Awaited<ReturnType<typeof callActor>>;
    try {
      reply = await callActor(services, "influencer-metrics", message, settings.metricsTimeoutMs);
    } catch (error) {
      if (error instanceof ActorCallError) throw new ApiError(503, "metrics_unavailable", error.message);
      throw error;
    }
    if (reply.status !== 200) {
      const detail = (reply.body as { error?: unknown } | null)?.error ?? reply.status;
      throw new ApiError(503, "metrics_unavailable", `The warehouse could not answer: ${String(detail)}`);
    }
    return c.json(reply.body as Record<string, unknown>);
  });
}

function idParam(c: Context<EdgeEnv>): string {
  const id = c.req.param("id") ?? "";
  const parsed = influencerId.safeParse(id);
  if (!parsed.success) {
    const message = parsed.error.issues[0]?.message ?? "invalid";
    throw new ApiError(400, "invalid_request", `id: ${message}`, { fields: [{ field: "id", message }] });
  }
  return parsed.data;
}

function intParam(c: Context<EdgeEnv>, name: string, fallback: number, min: number, max: number): number {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const message = `must be an integer from ${min} to ${max}`;
    throw new ApiError(400, "invalid_request", `${name}: ${message}`, { fields: [{ field: name, message }] });
  }
  return value;
}

function notFound(id: string): ApiError {
  return new ApiError(404, "influencer_not_found", `No influencer ${JSON.stringify(id)} is registered`);
}
