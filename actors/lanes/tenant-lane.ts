// A tenant's lane: its semaphore plus the FIFO line of queries waiting for it (scripts in lua/, codes named
// here). All keys share the tenant's hash tag, so every script runs on one Redis Cluster slot.
import type { Redis } from "@upstash/redis";
import { keys } from "../../src/domain/keys.ts";
import { runLua } from "../semaphore/lua-script.ts";
import { laneScripts } from "./scripts.ts";

/** Which query, for whom, asked when: what a lane needs to place it. */
export interface LaneTicket {
  tenantId: string;
  queryId: string;
  /** Epoch ms the question was asked: the lane's order. */
  askedAt: number;
  /**
   * The delivery's chain: the QStash message that started its run of `later` re-dispatches (a redelivery or a
   * `later` copy carries the same chain, a wake publish starts a new one). Lets a chain recognise its own lease.
   */
  chainId: string;
}

export interface TenantLaneSettings {
  leaseTtlMs: number;
  /** Used when the tenant's record has no `concurrencyLimit`. */
  defaultConcurrency: number;
  /** How long a waiting entry stays in the lane without another attempt. */
  waitTtlMs: number;
  /** How long a woken entry waits for its delivery before it lapses. */
  wakeGraceMs: number;
  /** TTL given to a status hash that has none. */
  statusTtlSeconds: number;
}

export type TenantAttempt =
  /** `headOnly`: the warehouse had refused this tenant, and this query tries it alone; report the outcome. */
  | { status: "granted"; expiresAt: number; stillWaiting: number; limit: number; headOnly: boolean }
  | { status: "wait"; place: number; free: number; limit: number }
  | { status: "finished"; limit: number }
  | { status: "duplicate"; leaseLeftMs: number; limit: number }
  | { status: "running-here"; leaseLeftMs: number; limit: number };

export type ParkResult =
  | { status: "parked"; place: number }
  | { status: "finished" }
  | { status: "duplicate" };

/** A query the lane lets run now: its delivery is signalled, or its parked body published again. */
export interface LaneHead {
  queryId: string;
  /** The message body when the query was parked (publish it to wake it); undefined when a delivery waits. */
  parkedBody?: string;
}

function laneKeys(tenantId: string) {
  return {
    sem: keys.semaphore(tenantId),
    lane: keys.lane(tenantId),
    laneExp: keys.laneExpiry(tenantId),
    parked: keys.laneParked(tenantId),
    tenant: keys.tenant(tenantId),
    warehouseWait: keys.laneWarehouseWait(tenantId),
  };
}

/** The client JSON-parses replies that look like JSON; a body comes back as an object unless re-serialised. */
function asBody(value: unknown): string | undefined {
  if (value === "" || value === null || value === undefined) return undefined;
  return typeof value === "string" ? value : JSON.stringify(value);
}

export class TenantLane {
  constructor(
    private readonly redis: Redis,
    private readonly settings: TenantLaneSettings,
  ) {}

  /** One attempt at a tenant permit in lane order; `arriving` on a delivery's first attempt. */
  async acquire(ticket: LaneTicket, token: string, arriving: boolean): Promise<TenantAttempt> {
    const k = laneKeys(ticket.tenantId);
    const s = this.settings;
    const [code, a, b, limit, headOnly] = await runLua<[number, number, number, number, number?]>(
      this.redis,
      laneScripts.tenantAcquire,
      [
        k.sem,
        k.lane,
        k.laneExp,
        k.parked,
        keys.query(ticket.tenantId, ticket.queryId),
        k.tenant,
        k.warehouseWait,
      ],
      [
        ticket.queryId,
        ticket.askedAt,
        token,
        s.leaseTtlMs,
        s.defaultConcurrency,
        s.waitTtlMs,
        ticket.chainId,
        arriving ? 1 : 0,
        s.statusTtlSeconds,
      ],
    );
    switch (code) {
      case 1:
        return { status: "granted", expiresAt: a, stillWaiting: b, limit, headOnly: headOnly === 1 };
      case 0:
        return { status: "wait", place: a, free: b, limit };
      case 2:
        return { status: "finished", limit };
      case 3:
        return { status: "duplicate", leaseLeftMs: a, limit };
      case 4:
        return { status: "running-here", leaseLeftMs: a, limit };
      default:
        throw new Error(`tenant-acquire.lua: unknown code ${code}`);
    }
  }

  /**
   * The warehouse granted the first in line a permit: with `room` for more, every query in the lane may try
   * again; without, the next in line tries alone.
   */
  async warehouseGranted(ticket: LaneTicket, room: boolean): Promise<void> {
    await runLua<number>(
      this.redis,
      laneScripts.tenantWarehouseGranted,
      [keys.laneWarehouseWait(ticket.tenantId)],
      [ticket.queryId, room ? 1 : 0],
    );
  }

  /**
   * Gives the permit back (the warehouse refused) and puts the query back at its place; until the tenant gets
   * a warehouse permit again, only the first in line may try. Returns the place.
   */
  async yieldPermit(ticket: LaneTicket, token: string): Promise<number> {
    const k = laneKeys(ticket.tenantId);
    return runLua<number>(
      this.redis,
      laneScripts.tenantYield,
      [k.sem, k.lane, k.laneExp, keys.query(ticket.tenantId, ticket.queryId), k.parked, k.warehouseWait],
      [ticket.queryId, ticket.askedAt, token, this.settings.waitTtlMs],
    );
  }

  /** Leaves the query in line with its body, for `parkMs`, so a release can publish it again. */
  async park(ticket: LaneTicket, body: string, parkMs: number): Promise<ParkResult> {
    const k = laneKeys(ticket.tenantId);
    const [code, place] = await runLua<[number, number]>(
      this.redis,
      laneScripts.tenantPark,
      [k.sem, k.lane, k.laneExp, k.parked, keys.query(ticket.tenantId, ticket.queryId)],
      [ticket.queryId, ticket.askedAt, body, parkMs],
    );
    switch (code) {
      case 1:
        return { status: "parked", place };
      case 2:
        return { status: "finished" };
      case 3:
        return { status: "duplicate" };
      default:
        throw new Error(`tenant-park.lua: unknown code ${code}`);
    }
  }

  /**
   * Releases `token` (if given) and returns the queries that may run now, parked ones with their bodies
   * (each park is handed out once).
   */
  async release(tenantId: string, token: string | null): Promise<{ released: boolean; heads: LaneHead[] }> {
    const k = laneKeys(tenantId);
    const reply = await runLua<unknown[]>(
      this.redis,
      laneScripts.tenantRelease,
      [k.sem, k.lane, k.laneExp, k.parked, k.tenant, k.warehouseWait],
      [token ?? "", this.settings.defaultConcurrency, this.settings.wakeGraceMs],
    );
    const heads: LaneHead[] = [];
    for (let i = 1; i + 1 < reply.length; i += 2) {
      heads.push({ queryId: String(reply[i]), parkedBody: asBody(reply[i + 1]) });
    }
    return { released: reply[0] === 1, heads };
  }
}
