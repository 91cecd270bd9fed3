// Influencer ids as tenants send them and providers know them.
import { z } from "zod";

/** Letters, digits, dot, underscore, dash; 1 to 64 of them. Safe inside Redis keys, URLs and log lines. */
export const INFLUENCER_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export const influencerId = z
  .string()
  .regex(INFLUENCER_ID_PATTERN, "expected 1-64 letters, digits, '.', '_' or '-'");

/** The counters a provider reports, in the order every response lists them. */
export const COUNTERS = ["followers", "following", "posts", "likes", "comments", "views"] as const;
export type CounterName = (typeof COUNTERS)[number];

/** One reading of an influencer's counters; a provider may leave any of them out (null). */
export type Counters = Record<CounterName, number | null>;
