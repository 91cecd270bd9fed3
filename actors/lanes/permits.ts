// The permits a query needs to touch the warehouse: one from its tenant's semaphore (taken in lane order),
// then one from the global warehouse semaphore (fair share between tenants). They live on different Redis
// Cluster slots, so they are taken one after the other, and the tenant's is given back when the warehouse
// refuses. A delivery that gets no permit waits in line for a while (woken by releases in this process,
// polling for the others), then parks: the lane keeps its place and body, and the actor answers `later`.
import type { Redis } from "@upstash/redis";
import { keys } from "../../src/domain/keys.ts";
import { heartbeatLease, newLeaseToken } from "../semaphore/semaphore.ts";
import { signal, waitForSignal } from "./signals.ts";
import { type LaneHead, type LaneTicket, TenantLane } from "./tenant-lane.ts";
import { type WarehouseKeys, WarehouseSemaphore, warehouseMember } from "./warehouse-semaphore.ts";

export interface PermitSettings {
  /** Lease TTL for both permits; the holder heartbeats well within it. */
  leaseTtlMs: number;
  /** Global warehouse permits (WAREHOUSE_CONCURRENCY). */
  warehouseConcurrency: number;
  /** A tenant's limit when its record has no `concurrencyLimit`. */
  defaultTenantConcurrency: number;
  /** How long a delivery waits in line before it parks and leaves. */
  holdMs: number;
  /** Between two attempts of a waiting delivery that hears no signal. */
  pollMs: number;
  /** A waiting entry (lane place, warehouse claim) lapses this long after its last attempt. */
  waitTtlMs: number;
  /** A woken parked entry keeps its place this long while its delivery is on the way. */
  wakeGraceMs: number;
  /** First `later` delay in ms; doubled for each further park of the same message chain, jittered. */
  parkDelayMs: number;
  /** Longest `later` delay in ms. */
  maxParkDelayMs: number;
  /** TTL of a status hash that has none. */
  statusTtlSeconds: number;
  /** Default: `wh:sem` and `{wh:sem}:wait`. */
  warehouseKeys?: WarehouseKeys;
}

export interface Permits {
  tenantId: string;
  /** Lease token of both permits. */
  token: string;
  /** The tenant's concurrency limit as the lane read it. */
  tenantLimit: number;
}

export type Admission =
  | { kind: "granted"; permits: Permits; attempts: number }
  /** The query is already done or failed: a late duplicate. */
  | { kind: "finished"; tenantLimit: number }
  /** Another chain of deliveries runs the query under a live lease (and is redelivered if its host dies). */
  | { kind: "duplicate"; tenantLimit: number }
  /** An earlier attempt of this same chain still holds a live lease (its host died, or it is still running). */
  | { kind: "running-here"; leaseLeftMs: number; tenantLimit: number }
  /** No permit within the hold time: parked in the lane; come back after `delayMs` (or sooner, when woken). */
  | {
      kind: "parked";
      place: number;
      blockedBy: "tenant" | "warehouse";
      delayMs: number;
      tenantLimit: number;
      attempts: number;
    };

/** A parked query a release lets run: publish its body to dispatch it again now. */
export interface Wake {
  tenantId: string;
  queryId: string;
  body: string;
}

type Attempt =
  | Exclude<Admission, { kind: "parked" }>
  | { kind: "wait"; blockedBy: "tenant" | "warehouse"; tenantLimit: number };

export class PermitGate {
  readonly lane: TenantLane;
  readonly warehouse: WarehouseSemaphore;

  constructor(
    private readonly redis: Redis,
    readonly settings: PermitSettings,
  ) {
    if (settings.waitTtlMs < 2 * settings.pollMs)
      throw new RangeError("waitTtlMs must be at least 2 × pollMs");
    this.lane = new TenantLane(redis, {
      leaseTtlMs: settings.leaseTtlMs,
      defaultConcurrency: settings.defaultTenantConcurrency,
      waitTtlMs: settings.waitTtlMs,
      wakeGraceMs: settings.wakeGraceMs,
      statusTtlSeconds: settings.statusTtlSeconds,
    });
    this.warehouse = new WarehouseSemaphore(redis, {
      limit: settings.warehouseConcurrency,
      leaseTtlMs: settings.leaseTtlMs,
      claimTtlMs: settings.waitTtlMs,
      keys: settings.warehouseKeys,
    });
  }

  /**
   * Waits in line for both permits, up to the hold time, then parks. `body` is the message as published
   * (kept while parked so a release can publish it again); `laterCount` spaces out repeated parks.
   */
  async admit(ticket: LaneTicket, body: string, laterCount: number): Promise<Admission> {
    const deadline = performance.now() + this.settings.holdMs;
    let attempts = 0;
    let last: Attempt;
    for (let arriving = true; ; arriving = false) {
      last = await this.attempt(ticket, arriving);
      attempts++;
      if (last.kind !== "wait") return { ...last, attempts } as Admission;
      const left = deadline - performance.now();
      if (left <= 0) break;
      const poll = this.settings.pollMs * (0.5 + Math.random() / 2);
      await waitForSignal(ticket.tenantId, ticket.queryId, Math.min(left, poll));
    }

    const delayMs = this.parkDelay(laterCount);
    const parkMs = delayMs + this.settings.wakeGraceMs;
    const parked = await this.lane.park(ticket, body, parkMs);
    if (parked.status === "finished") return { kind: "finished", tenantLimit: last.tenantLimit };
    if (parked.status === "duplicate") return { kind: "duplicate", tenantLimit: last.tenantLimit };
    if (last.blockedBy === "warehouse") await this.warehouse.claim(ticket.tenantId, parkMs);
    // A release between the last attempt and the park saw nobody parked: try once more now that we are.
    const final = await this.attempt(ticket, false);
    attempts++;
    if (final.kind !== "wait") return { ...final, attempts } as Admission;
    return {
      kind: "parked",
      place: parked.place,
      blockedBy: final.blockedBy,
      delayMs,
      tenantLimit: final.tenantLimit,
      attempts,
    };
  }

  /** Extends both leases; "lost" when either had expired or was taken back (the work must stop). */
  async heartbeat(permits: Permits): Promise<"ok" | "lost"> {
    const ttl = this.settings.leaseTtlMs;
    const [tenant, warehouse] = await Promise.all([
      heartbeatLease(this.redis, keys.semaphore(permits.tenantId), permits.token, ttl),
      heartbeatLease(this.redis, this.warehouse.key, warehouseMember(permits.token, permits.tenantId), ttl),
    ]);
    return tenant.status === "extended" && warehouse.status === "extended" ? "ok" : "lost";
  }

  /**
   * Gives both permits back and lets the next queries go: its own lane's first waiting queries, and those of
   * the tenant the warehouse names as next in fair share. Deliveries waiting in this process are signalled;
   * parked queries are returned, to be published again.
   */
  async release(permits: Permits): Promise<Wake[]> {
    const [tenant, warehouse] = await Promise.all([
      this.lane.release(permits.tenantId, permits.token),
      this.warehouse.release(warehouseMember(permits.token, permits.tenantId)),
    ]);
    const wakes = this.dispatch(permits.tenantId, tenant.heads);
    if (warehouse.next !== null && warehouse.next !== permits.tenantId) {
      const other = await this.lane.release(warehouse.next, null);
      wakes.push(...this.dispatch(warehouse.next, other.heads));
    }
    return wakes;
  }

  /** Releases nothing; wakes the tenant's lane heads if permits are free (after a crash skipped a release). */
  async wakeLane(tenantId: string): Promise<Wake[]> {
    return this.dispatch(tenantId, (await this.lane.release(tenantId, null)).heads);
  }

  private dispatch(tenantId: string, heads: LaneHead[]): Wake[] {
    const wakes: Wake[] = [];
    for (const head of heads) {
      signal(tenantId, head.queryId);
      if (head.parkedBody !== undefined)
        wakes.push({ tenantId, queryId: head.queryId, body: head.parkedBody });
    }
    return wakes;
  }

  private async attempt(ticket: LaneTicket, arriving: boolean): Promise<Attempt> {
    const token = newLeaseToken();
    const tenant = await this.lane.acquire(ticket, token, arriving);
    switch (tenant.status) {
      case "finished":
        return { kind: "finished", tenantLimit: tenant.limit };
      case "duplicate":
        return { kind: "duplicate", tenantLimit: tenant.limit };
      case "running-here":
        return { kind: "running-here", leaseLeftMs: tenant.leaseLeftMs, tenantLimit: tenant.limit };
      case "wait":
        return { kind: "wait", blockedBy: "tenant", tenantLimit: tenant.limit };
      case "granted":
        break;
    }
    const warehouse = await this.warehouse.acquire(ticket.tenantId, token, tenant.stillWaiting > 0);
    if (warehouse.status === "granted") {
      // Followers may try in parallel again only once the warehouse has room for them; while it is still the
      // bottleneck they stay behind the first in line, so none can overtake it the moment a permit frees.
      if (tenant.headOnly) await this.lane.warehouseGranted(ticket, warehouse.room);
      return {
        kind: "granted",
        permits: { tenantId: ticket.tenantId, token, tenantLimit: tenant.limit },
        attempts: 0,
      };
    }
    await this.lane.yieldPermit(ticket, token);
    return { kind: "wait", blockedBy: "warehouse", tenantLimit: tenant.limit };
  }

  /** Doubles per park of the same chain, capped, with ±25% jitter so parked queries do not return together. */
  private parkDelay(laterCount: number): number {
    const base = Math.min(
      this.settings.maxParkDelayMs,
      this.settings.parkDelayMs * 2 ** Math.min(laterCount, 10),
    );
    return Math.round(base * (0.75 + Math.random() / 2));
  }
}
