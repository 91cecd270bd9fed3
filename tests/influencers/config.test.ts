import { expect, test } from "bun:test";
import { hostname } from "node:os";
import { readInfluencerConfig } from "../../actors/influencers/config.ts";

test("the points stream is named after the warehouse database, so every host draining it writes to that database", () => {
  expect(readInfluencerConfig({}).stream.key).toBe("fw:influencer-points:fairway");
  expect(readInfluencerConfig({ DATABASE_URL: "postgres://u@db.example:6432/analytics" }).stream.key).toBe(
    "fw:influencer-points:analytics",
  );
  expect(readInfluencerConfig({ INFLUENCER_STREAM_KEY: "mine" }).stream.key).toBe("mine");
});

test("a host's sink consumer is named after its host and port (its pid on an OS-chosen port)", () => {
  expect(readInfluencerConfig({ PORT: "8082" }).sink.consumer).toBe(`${hostname()}:8082`);
  expect(readInfluencerConfig({ PORT: "0" }).sink.consumer).toBe(`${hostname()}:pid${process.pid}`);
  expect(readInfluencerConfig({ INFLUENCER_SINK_CONSUMER: "a" }).sink.consumer).toBe("a");
});

test("defaults, switches and refused values", () => {
  const config = readInfluencerConfig({});
  expect(config).toMatchObject({
    providerUrl: "http://127.0.0.1:8083",
    tickPrecisionMs: 1000,
    fetchAttempts: 3,
  });
  expect(config.sink).toMatchObject({ enabled: true, group: "sink", batchSize: 1000 });
  expect(readInfluencerConfig({ INFLUENCER_SINK: "off" }).sink.enabled).toBe(false);
  expect(() => readInfluencerConfig({ INFLUENCER_TICK_PRECISION_MS: "0" })).toThrow(
    "INFLUENCER_TICK_PRECISION_MS",
  );
  expect(() => readInfluencerConfig({ INFLUENCER_STREAM_MAXLEN: "10" })).toThrow("INFLUENCER_STREAM_MAXLEN");
});
