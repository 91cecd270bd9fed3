import { describe, expect, test } from "bun:test";
import { Receiver } from "@upstash/qstash";
import { DeliverySigner } from "../../../src/local/qstash/delivery/signature.ts";
import { defaultBackoffMs, parseRetryAfter } from "../../../src/local/qstash/protocol/backoff.ts";
import { parseCron } from "../../../src/local/qstash/protocol/cron.ts";
import { parseDuration } from "../../../src/local/qstash/protocol/duration.ts";
import { parseFlowControlValue } from "../../../src/local/qstash/protocol/flow-control-value.ts";
import { parseRetryDelay } from "../../../src/local/qstash/protocol/retry-delay.ts";

describe("parseDuration", () => {
  test("reads QStash durations and bare seconds", () => {
    expect(parseDuration("10s")).toBe(10_000);
    expect(parseDuration("1d10h30m")).toBe(124_200_000);
    expect(parseDuration("1.5h")).toBe(5_400_000);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("45")).toBe(45_000);
    expect(parseDuration(" 2m ")).toBe(120_000);
  });

  test("refuses anything else", () => {
    for (const bad of ["", "s", "-5s", "10x", "1d 2h", "10s5", "abc"]) {
      expect(parseDuration(bad)).toBeUndefined();
    }
  });
});

describe("parseFlowControlValue", () => {
  test("takes the settings in any order and spacing", () => {
    expect(parseFlowControlValue("parallelism=2, rate=10, period=1m")).toEqual({
      ok: true,
      limits: { parallelism: 2, rate: 10, periodMs: 60_000 },
    });
    expect(parseFlowControlValue("period=30s,rate=5")).toEqual({
      ok: true,
      limits: { rate: 5, periodMs: 30_000 },
    });
    expect(parseFlowControlValue(" parallelism = 3 ")).toEqual({
      ok: true,
      limits: { parallelism: 3, periodMs: 1000 },
    });
    expect(parseFlowControlValue("rate=4, period=2")).toEqual({
      ok: true,
      limits: { rate: 4, periodMs: 2000 },
    });
  });

  test("names what is wrong", () => {
    const cases: [string, string][] = [
      ["", "expected"],
      ["parallelism=0", "positive integer"],
      ["rate=1.5", "positive integer"],
      ["period=1m", "set parallelism or rate"],
      ["speed=3", "unknown setting"],
      ["parallelism", "not name=value"],
      ["rate=2, period=soon", "period"],
    ];
    for (const [input, message] of cases) {
      const parsed = parseFlowControlValue(input);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.error).toContain(message);
    }
  });
});

describe("parseRetryDelay", () => {
  const run = (expression: string, retried: number) => {
    const parsed = parseRetryDelay(expression);
    if (!parsed.ok) throw new Error(parsed.error);
    return parsed.delay(retried);
  };

  test("evaluates the documented examples", () => {
    expect(run("1000", 3)).toBe(1000);
    expect(run("1000 * (1 + retried)", 2)).toBe(3000);
    expect(run("pow(2, retried) * 1000", 3)).toBe(8000);
    expect(run("max(1000, pow(2, retried) * 100)", 2)).toBe(1000);
    expect(run("min(86400000, exp(retried) * 1000)", 0)).toBe(1000);
  });

  test("knows precedence, unary minus and every function", () => {
    expect(run("2 + 3 * 4 - 10 / 5", 0)).toBe(12);
    expect(run("-(2 - 5) * 2", 0)).toBe(6);
    expect(run("sqrt(16) + abs(-3) + floor(2.7) + ceil(2.1) + round(2.5)", 0)).toBe(4 + 3 + 2 + 3 + 3);
    expect(run("min(5, 3, 9) + max(1, retried, 2)", 7)).toBe(10);
    expect(run("1.5e3", 0)).toBe(1500);
  });

  test("turns negative or non-finite results into no wait", () => {
    expect(run("0 - 500", 0)).toBe(0);
    expect(run("1 / 0", 0)).toBe(0);
  });

  test("refuses what it cannot read, without evaluating code", () => {
    for (const bad of [
      "",
      "retried +",
      "pow(2)",
      "process.exit(1)",
      "alert(1)",
      "1 ** 2",
      "(1",
      "min()",
      "2 % 3",
    ]) {
      expect(parseRetryDelay(bad).ok).toBe(false);
    }
  });
});

describe("backoff", () => {
  test("follows min(1 day, e^(2.5·n)) seconds", () => {
    expect(defaultBackoffMs(1)).toBe(12_182);
    expect(defaultBackoffMs(2)).toBe(148_413);
    expect(defaultBackoffMs(10)).toBe(86_400_000);
  });

  test("reads Retry-After as seconds or a date", () => {
    expect(parseRetryAfter("3", 0)).toBe(3000);
    expect(parseRetryAfter(null, 0)).toBeUndefined();
    expect(parseRetryAfter("soon", 0)).toBeUndefined();
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:05 GMT", now)).toBe(5000);
  });
});

describe("parseCron", () => {
  test("gives the next fire time in UTC or the given zone", () => {
    const from = Date.parse("2026-03-02T10:15:30Z");
    const daily = parseCron("0 4 * * *");
    expect(daily.ok && daily.schedule.nextAfter(from)).toBe(Date.parse("2026-03-03T04:00:00Z"));
    const paris = parseCron("CRON_TZ=Europe/Paris 0 9 * * 1-5");
    expect(paris.ok && paris.schedule.nextAfter(from)).toBe(Date.parse("2026-03-03T08:00:00Z"));
    const seconds = parseCron("*/5 * * * * *");
    expect(seconds.ok && seconds.schedule.nextAfter(from)).toBe(Date.parse("2026-03-02T10:15:35Z"));
  });

  test("refuses bad expressions and zones", () => {
    expect(parseCron("* * * *").ok).toBe(false);
    expect(parseCron("61 * * * *").ok).toBe(false);
    expect(parseCron("CRON_TZ=Mars/Base 0 4 * * *").ok).toBe(false);
  });
});

describe("DeliverySigner", () => {
  const current = "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r";
  const next = "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs";
  const receiver = new Receiver({ currentSigningKey: current, nextSigningKey: next });
  const body = '{"hello":"wörld"}';

  test("signs what the official Receiver verifies, for that URL and body only", async () => {
    const url = "http://127.0.0.1:9/actors/echo?x=1";
    const signature = new DeliverySigner(current).sign(url, new TextEncoder().encode(body));
    expect(await receiver.verify({ signature, body, url })).toBe(true);
    await expect(
      receiver.verify({ signature, body, url: "http://127.0.0.1:9/actors/other" }),
    ).rejects.toThrow();
    await expect(receiver.verify({ signature, body: `${body} `, url })).rejects.toThrow();
  });

  test("the next key verifies too, an unknown one does not", async () => {
    const url = "http://127.0.0.1:9/a";
    const signature = new DeliverySigner(next).sign(url, new TextEncoder().encode(body));
    expect(await receiver.verify({ signature, body, url })).toBe(true);
    const forged = new DeliverySigner("sig_not_ours").sign(url, new TextEncoder().encode(body));
    await expect(receiver.verify({ signature: forged, body, url })).rejects.toThrow();
  });
});
