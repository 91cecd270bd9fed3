// Starting a query's computation: join the flight for its (hash, data version) or start one and publish the
// job to the query actor, in the tenant's lane at the broker.
import { keys } from "../../domain/keys.ts";
import { QUERY_FAILED_ACTOR, type QueryJobMessage } from "../../domain/query-jobs.ts";
import type { Tenant } from "../../domain/tenants.ts";
import type { EdgeServices, QuerySettings } from "../context.ts";
import { ApiError } from "../errors.ts";
import type { QueryRequest } from "./query-request.ts";
import { QueryResults } from "./query-results.ts";
import { type Flight, SingleFlight } from "./single-flight.ts";

export interface QueryServices {
  flights: SingleFlight;
  results: QueryResults;
}

const perServices = new WeakMap<EdgeServices, QueryServices>();

export function queryServices(services: EdgeServices): QueryServices {
  let found = perServices.get(services);
  if (!found) {
    found = { flights: new SingleFlight(services.redis), results: new QueryResults(services.redis) };
    perServices.set(services, found);
  }
  return found;
}

/** The cache key a request reads: the tenant's tag and the canonical hash. */
export function cacheKeyOf(tenantId: string, request: Pick<QueryRequest, "hash">): string {
  return keys.cache(tenantId, request.hash);
}

/**
 * Joins the computation of this question at this data version, or starts it: the winner publishes the job
 * (flow-control key = tenant id, parallelism = its concurrency limit: the broker is the tenant's lane;
 * deduplication id = query id). A publish that fails undoes the flight and answers 503.
 */
export async function computeQuery(
  services: EdgeServices,
  settings: QuerySettings,
  tenant: Tenant,
  dataVersion: number,
  request: QueryRequest,
): Promise<Flight> {
  const { publisher } = services;
  if (!publisher) {
    throw new ApiError(
      503,
      "queries_unavailable",
      "Query execution is not configured (QSTASH_TOKEN is missing)",
    );
  }
  const { flights } = queryServices(services);
  const flight = await flights.join(tenant.id, request.hash, dataVersion);
  if (!flight.started) return flight;
  const message: QueryJobMessage = {
    queryId: flight.queryId,
    tenantId: tenant.id,
    hash: request.hash,
    dataVersion,
    query: request.canonical,
    askedAt: request.askedAt,
    cacheTtlSeconds: settings.cacheTtlSeconds,
    staleGraceSeconds: settings.staleGraceSeconds,
  };
  try {
    await publisher.publish({
      actor: "query",
      body: message,
      flowControl: { key: tenant.id, parallelism: tenant.concurrencyLimit },
      deduplicationId: flight.queryId,
      // A message that dies (retries or re-dispatches spent) is recorded as failed there, freeing the flight.
      failureCallback: QUERY_FAILED_ACTOR,
    });
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    await flights.abandon(
      tenant.id,
      request.hash,
      flight.queryId,
      "The query could not be queued; try again",
    );
    throw new ApiError(503, "queue_unavailable", `The query could not be queued: ${detail}`);
  }
  return flight;
}
