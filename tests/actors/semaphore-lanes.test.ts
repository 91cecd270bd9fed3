// Tenant lanes and the fair warehouse semaphore, on real Redis through the REST bridge: limits under a crowd,
// first come first served inside a tenant, fair share between tenants, parking and waking, duplicates.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Admission, PermitGate, type PermitSettings, type Permits } from "../../actors/lanes/permits.ts";
import type { LaneTicket } from "../../actors/lanes/tenant-lane.ts";
import { keys } from "../../src/domain/keys.ts";
import { openRedisFixture, type RedisFixture } from "./semaphore-support.ts";

let fx: RedisFixture;
let run = 0;

beforeAll(async () => {
  fx = await openRedisFixture("lanes");
});

afterAll(async () => {
  await fx.close([`{t:${fx.prefix}*`, `{${fx.prefix}*`]);
});

/** A gate with its own warehouse keys and tenants named `<prefix>-<n>-<name>`. */
function setup(overrides: Partial<PermitSettings> = {}) {
  const n = ++run;
  const settings: PermitSettings = {
    leaseTtlMs: 30_000,
    warehouseConcurrency: 4,
    defaultTenantConcurrency: 2,
    holdMs: 30_000,
    pollMs: 25,
    waitTtlMs: 1_000,
    wakeGraceMs: 5_000,
    parkDelayMs: 1_000,
    maxParkDelayMs: 8_000,
    statusTtlSeconds: 600,
    warehouseKeys: { semaphore: `{${fx.prefix}-${n}}:wh:sem`, waiting: `{${fx.prefix}-${n}}:wh:wait` },
    ...overrides,
  };
  const gate = new PermitGate(fx.redis, settings);
  const tenant = (name: string) => `${fx.prefix}-${n}-${name}`;
  let asked = 1_000_000;
  const ticket = (tenantId: string, queryId: string, askedAt = asked++): LaneTicket => ({
    tenantId,
    queryId,
    askedAt,
    chainId: `msg-${queryId}`,
  });
  const setLimit = (tenantId: string, limit: number) =>
    fx.redis.hset(keys.tenant(tenantId), { concurrencyLimit: String(limit) });
  return { gate, settings, tenant, ticket, setLimit };
}

function granted(admission: Admission): Permits {
  if (admission.kind !== "granted") throw new Error(`expected granted, got ${JSON.stringify(admission)}`);
  return admission.permits;
}

async function until(what: string, probe: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

describe("tenant lanes and the warehouse semaphore", () => {
  test("200 concurrent queries of 4 tenants never exceed a tenant's limit or the warehouse's", async () => {
    const { gate, tenant, ticket, setLimit } = setup({ warehouseConcurrency: 5 });
    const tenants = ["a", "b", "c", "d"].map(tenant);
    for (const t of tenants) await setLimit(t, 3);
    const holding = new Map<string, number>();
    const most = new Map<string, number>();
    let total = 0;
    let mostTotal = 0;
    const one = async (i: number) => {
      const tenantId = tenants[i % 4] as string;
      const permits = granted(await gate.admit(ticket(tenantId, `q${i}`), "{}", 0));
      holding.set(tenantId, (holding.get(tenantId) ?? 0) + 1);
      most.set(tenantId, Math.max(most.get(tenantId) ?? 0, holding.get(tenantId) ?? 0));
      mostTotal = Math.max(mostTotal, ++total);
      await Bun.sleep(Math.random() * 5);
      holding.set(tenantId, (holding.get(tenantId) ?? 1) - 1);
      total--;
      await gate.release(permits);
    };
    await Promise.all(Array.from({ length: 200 }, (_, i) => one(i)));
    expect(mostTotal).toBeLessThanOrEqual(5);
    expect(mostTotal).toBe(5); // contended: the bound was reached
    for (const t of tenants) expect(most.get(t)).toBeLessThanOrEqual(3);
    for (const t of tenants) {
      expect(await fx.redis.zcard(keys.semaphore(t))).toBe(0);
      expect(await fx.redis.zcard(keys.lane(t))).toBe(0);
    }
  }, 60_000);

  test("inside a tenant, queries start in the order they were asked, whatever order they arrive in", async () => {
    const { gate, tenant, ticket, setLimit } = setup();
    const t = tenant("fifo");
    await setLimit(t, 1);
    const blocker = granted(await gate.admit(ticket(t, "blocker", 1), "{}", 0));
    const started: string[] = [];
    const asked = [10, 20, 30, 40, 50, 60];
    // Arrive in a scrambled order while the blocker holds the only permit.
    const runs = [40, 10, 60, 30, 50, 20].map(async (askedAt) => {
      const permits = granted(await gate.admit(ticket(t, `q${askedAt}`, askedAt), "{}", 0));
      started.push(`q${askedAt}`);
      await Bun.sleep(5);
      await gate.release(permits);
    });
    await until("six in the lane", async () => (await fx.redis.zcard(keys.lane(t))) === 6);
    await gate.release(blocker);
    await Promise.all(runs);
    expect(started).toEqual(asked.map((a) => `q${a}`));
  });

  test("when the warehouse is the bottleneck, a tenant's queries still get it in the order they were asked", async () => {
    const { gate, tenant, ticket, setLimit } = setup({ warehouseConcurrency: 1, pollMs: 5, waitTtlMs: 1000 });
    const [x, t] = [tenant("x"), tenant("t")];
    await setLimit(t, 4); // tenant permits to spare: only the warehouse makes them wait
    let holder = granted(await gate.admit(ticket(x, "x1"), "{}", 0));
    const started: string[] = [];
    const held = new Map<string, Permits>();
    const runs = [40, 10, 30, 20].map(async (askedAt) => {
      const permits = granted(await gate.admit(ticket(t, `q${askedAt}`, askedAt), "{}", 0));
      started.push(`q${askedAt}`);
      held.set(`q${askedAt}`, permits);
    });
    await until("four in the lane", async () => (await fx.redis.zcard(keys.lane(t))) === 4);
    for (let n = 1; n <= 4; n++) {
      await gate.release(holder);
      await until(`start ${n}`, async () => started.length === n);
      await Bun.sleep(20); // polls of the others come and go while the warehouse is held again
      holder = held.get(started[n - 1] as string) as Permits;
    }
    await gate.release(holder);
    await Promise.all(runs);
    expect(started).toEqual(["q10", "q20", "q30", "q40"]);
  });

  test("fair share: a busy tenant gives way to a waiting tenant, permit by permit", async () => {
    const { gate, tenant, ticket, setLimit } = setup({ warehouseConcurrency: 4 });
    const [a, b] = [tenant("a"), tenant("b")];
    await setLimit(a, 10);
    await setLimit(b, 10);
    const [a1, a2, a3] = await Promise.all(
      [1, 2, 3].map(async (i) => granted(await gate.admit(ticket(a, `a${i}`), "{}", 0))),
    );
    const order: string[] = [];
    const waiters = new Map<string, Promise<Permits>>();
    const wait = (tenantId: string, id: string) =>
      waiters.set(
        id,
        gate.admit(ticket(tenantId, id), "{}", 0).then((admission) => {
          order.push(id);
          return granted(admission);
        }),
      );
    wait(a, "a4");
    wait(a, "a5");
    await Bun.sleep(30); // A's fourth and fifth wait: a lone tenant never holds the last permit…
    expect(order).toEqual([]);
    wait(b, "b1"); // …so B, arriving beside it, starts at once
    await until("b1 starts", async () => order.length === 1);
    expect(order).toEqual(["b1"]);
    wait(b, "b2");
    await until("b2 waiting", async () => (await fx.redis.zscore(gate.warehouse.waitingKey, b)) !== null);

    // Now full. A holds 3, B 1, fair share ceil(4 / 2) = 2: A's next release goes to B…
    await gate.release(a1 as Permits);
    await until("two starts", async () => order.length === 2);
    expect(order[1]).toBe("b2");
    // …and once B has its share, A's following release goes back to A's first waiter.
    await gate.release(a2 as Permits);
    await until("three starts", async () => order.length === 3);
    expect(order[2]).toBe("a4");
    await gate.release(a3 as Permits);
    await until("four starts", async () => order.length === 4);
    for (const id of ["a4", "a5", "b1", "b2"])
      await gate.release(await (waiters.get(id) as Promise<Permits>));
  });

  test("a tenant alone may use every warehouse permit but the last", async () => {
    const { gate, tenant, ticket, setLimit } = setup({ warehouseConcurrency: 3, holdMs: 100 });
    const a = tenant("alone");
    await setLimit(a, 10);
    const held = await Promise.all(
      [1, 2].map(async (i) => granted(await gate.admit(ticket(a, `a${i}`), "{}", 0))),
    );
    expect(await gate.admit(ticket(a, "a3"), "{}", 0)).toMatchObject({
      kind: "parked",
      blockedBy: "warehouse",
    });
    expect(await fx.redis.zcard(gate.warehouse.key)).toBe(2);
    // With a one-permit warehouse there is no "last but one": the tenant may use it.
    const { gate: small, ticket: t2 } = setup({ warehouseConcurrency: 1 });
    await gate.release(held[0] as Permits);
    const only = granted(await small.admit(t2(a, "solo"), "{}", 0));
    await small.release(only);
    await gate.release(held[1] as Permits);
  });

  test("a delivery that waits past the hold time parks; the next release hands its body out once", async () => {
    const { gate, tenant, ticket, setLimit } = setup({ holdMs: 80 });
    const t = tenant("park");
    await setLimit(t, 1);
    const blocker = granted(await gate.admit(ticket(t, "blocker"), "{}", 0));
    const body = JSON.stringify({ queryId: "parked", note: "the message body" });
    const parked = await gate.admit(ticket(t, "parked"), body, 0);
    expect(parked).toMatchObject({ kind: "parked", place: 0, blockedBy: "tenant" });
    if (parked.kind !== "parked") throw new Error("not parked");
    expect(parked.delayMs).toBeGreaterThanOrEqual(750);
    expect(parked.delayMs).toBeLessThanOrEqual(1250);
    expect(await fx.redis.hget(keys.laneParked(t), "parked")).toEqual(JSON.parse(body));

    const wakes = await gate.release(blocker);
    expect(wakes).toEqual([{ tenantId: t, queryId: "parked", body }]);
    expect(await gate.wakeLane(t)).toEqual([]); // woken once, not once per look
    // The woken delivery arrives and runs.
    const woken = granted(await gate.admit({ ...ticket(t, "parked"), chainId: "msg-wake" }, body, 0));
    await gate.release(woken);
  });

  test("a query parked for want of a warehouse permit stays parked through its last attempt, and is woken", async () => {
    const { gate, tenant, ticket, setLimit } = setup({ holdMs: 0, warehouseConcurrency: 1 });
    const [x, b] = [tenant("x"), tenant("b")];
    await setLimit(b, 2);
    const holder = granted(await gate.admit(ticket(x, "x1"), "{}", 0));
    // B's last attempt after parking takes B's tenant permit, is refused by the warehouse, and gives it back.
    const parked = await gate.admit(ticket(b, "b1"), '{"b":1}', 0);
    expect(parked).toMatchObject({ kind: "parked", blockedBy: "warehouse" });
    expect(await fx.redis.hget(keys.laneParked(b), "b1")).toEqual({ b: 1 });
    const laneLapse = Number(await fx.redis.zscore(keys.laneExpiry(b), "b1"));
    const laneLapseLeft = laneLapse - Date.now();
    expect(laneLapseLeft).toBeGreaterThan(5_000); // the park's own lapse, not a waiting entry's 1 s
    // X's release names B as next in fair share, and B's parked body is handed out to be published.
    expect(await gate.release(holder)).toEqual([{ tenantId: b, queryId: "b1", body: '{"b":1}' }]);
  });

  test("a later park of the same chain waits longer", async () => {
    const { gate, tenant, ticket, setLimit } = setup({ holdMs: 10 });
    const t = tenant("backoff");
    await setLimit(t, 1);
    const blocker = granted(await gate.admit(ticket(t, "blocker"), "{}", 0));
    const third = await gate.admit(ticket(t, "q"), "{}", 3);
    if (third.kind !== "parked") throw new Error("not parked");
    expect(third.delayMs).toBeGreaterThanOrEqual(6000); // 8 s cap (1 s × 2³), -25%
    await gate.release(blocker);
  });

  test("duplicates: done → finished; another live runner → duplicate; this message's own live lease → running-here", async () => {
    const { gate, tenant, ticket } = setup();
    const t = tenant("dup");
    const permits = granted(await gate.admit(ticket(t, "q1"), "{}", 0));
    expect((await gate.admit({ ...ticket(t, "q1"), chainId: "other" }, "{}", 0)).kind).toBe("duplicate");
    const again = await gate.admit(ticket(t, "q1"), "{}", 0); // same chain: a redelivery or its later copy
    expect(again).toMatchObject({ kind: "running-here" });
    if (again.kind === "running-here") expect(again.leaseLeftMs).toBeGreaterThan(25_000);
    await gate.release(permits);
    await fx.redis.hset(keys.query(t, "q1"), { status: "done" });
    expect((await gate.admit(ticket(t, "q1"), "{}", 0)).kind).toBe("finished");
    expect(await fx.redis.zcard(keys.lane(t))).toBe(0);
  });

  test("an entry whose delivery vanished lapses instead of blocking its lane", async () => {
    const { gate, tenant, ticket, setLimit } = setup({ holdMs: 0, waitTtlMs: 300, pollMs: 50 });
    const t = tenant("lapse");
    await setLimit(t, 1);
    const blocker = granted(await gate.admit(ticket(t, "blocker"), "{}", 0));
    // The first in line attempts once and is never seen again (its delivery died before parking).
    const ghost = ticket(t, "ghost");
    expect((await gate.lane.acquire(ghost, "tok", true)).status).toBe("wait");
    await gate.release(blocker);
    const next = ticket(t, "next");
    expect((await gate.lane.acquire(next, "tok2", true)).status).toBe("wait"); // ghost is ahead
    await Bun.sleep(350);
    expect((await gate.lane.acquire(next, "tok2", false)).status).toBe("granted");
  });

  test("a crashed holder's permits come back after the lease TTL; its heartbeat then reports them lost", async () => {
    const { gate, tenant, ticket, setLimit } = setup({ leaseTtlMs: 200 });
    const t = tenant("crash");
    await setLimit(t, 1);
    const crashed = granted(await gate.admit(ticket(t, "crashed"), "{}", 0));
    expect(await gate.heartbeat(crashed)).toBe("ok");
    await Bun.sleep(300);
    const next = granted(await gate.admit(ticket(t, "next"), "{}", 0));
    expect(await gate.heartbeat(crashed)).toBe("lost");
    expect(await gate.heartbeat(next)).toBe("ok");
    await gate.release(next);
  });
});
