// Plausible ad traffic: each tenant gets campaigns on real-looking channels, ads whose popularity follows a
// Zipf law, places weighted like markets, and per-ad click-through and conversion rates, so impressions far
// outnumber clicks and clicks far outnumber conversions; costs follow each channel's CPM and CPC.
import type { EventKind, IngestEvent } from "../../domain/events/index.ts";
import { mulberry32 } from "../../domain/seeded-random.ts";

interface Channel {
  name: string;
  /** Cost per thousand impressions and per click, in currency units. */
  cpm: number;
  cpc: number;
}

const CHANNELS: Channel[] = [
  { name: "google", cpm: 3.5, cpc: 1.2 },
  { name: "facebook", cpm: 7.2, cpc: 0.9 },
  { name: "instagram", cpm: 6.5, cpc: 1.1 },
  { name: "tiktok", cpm: 5.0, cpc: 0.6 },
  { name: "twitter", cpm: 4.5, cpc: 0.7 },
  { name: "linkedin", cpm: 12.0, cpc: 3.5 },
  { name: "youtube", cpm: 9.0, cpc: 0.4 },
  { name: "email", cpm: 0.5, cpc: 0.05 },
];

const CAMPAIGN_THEMES = [
  "spring-sale",
  "summer-launch",
  "back-to-school",
  "black-friday",
  "cyber-monday",
  "holiday-gifts",
  "new-year",
  "brand-awareness",
  "retargeting",
  "loyalty",
  "app-install",
  "webinar",
];

/** [country, city, weight]: rough market sizes, so a few places dominate. */
const PLACES: [string, string, number][] = [
  ["US", "New York", 9],
  ["US", "Los Angeles", 7],
  ["US", "Chicago", 5],
  ["US", "Austin", 3],
  ["US", "Seattle", 3],
  ["GB", "London", 6],
  ["GB", "Manchester", 2],
  ["DE", "Berlin", 4],
  ["DE", "Munich", 2],
  ["FR", "Paris", 4],
  ["FR", "Lyon", 1.5],
  ["ES", "Madrid", 2],
  ["IT", "Milan", 2],
  ["NL", "Amsterdam", 1.5],
  ["SE", "Stockholm", 1],
  ["PL", "Warsaw", 1],
  ["BR", "São Paulo", 4],
  ["MX", "Mexico City", 3],
  ["CA", "Toronto", 3],
  ["IN", "Bengaluru", 4],
  ["IN", "Mumbai", 4],
  ["JP", "Tokyo", 5],
  ["KR", "Seoul", 2],
  ["SG", "Singapore", 1.5],
  ["AU", "Sydney", 2],
  ["ZA", "Cape Town", 1],
  ["NG", "Lagos", 1.5],
  ["AE", "Dubai", 1],
];

export interface Ad {
  id: string;
  campaign: string;
  channel: Channel;
  /** Clicks per impression, and conversions per click. */
  ctr: number;
  cvr: number;
  /** Revenue of one conversion. */
  orderValue: number;
}

export interface Catalogue {
  ads: Ad[];
  /** Cumulative Zipf weights over `ads` (most popular first). */
  adWeights: number[];
  placeWeights: number[];
}

export interface CatalogueOptions {
  seed: number;
  ads?: number;
  campaigns?: number;
  /** Zipf exponent: 1 is classic; higher concentrates traffic on the top ads. */
  zipf?: number;
}

export function buildCatalogue(options: CatalogueOptions): Catalogue {
  const random = mulberry32(options.seed);
  const campaignCount = options.campaigns ?? 10;
  const campaigns = Array.from({ length: campaignCount }, (_, i) => {
    const theme = CAMPAIGN_THEMES[i % CAMPAIGN_THEMES.length] as string;
    const channel = CHANNELS[Math.floor(random() * CHANNELS.length)] as Channel;
    return {
      name: i < CAMPAIGN_THEMES.length ? theme : `${theme}-${Math.floor(i / CAMPAIGN_THEMES.length) + 1}`,
      channel,
    };
  });
  const ads: Ad[] = Array.from({ length: options.ads ?? 200 }, (_, i) => {
    const campaign = campaigns[Math.floor(random() * campaigns.length)] as (typeof campaigns)[number];
    return {
      id: `${campaign.channel.name.slice(0, 2)}-${campaign.name}-${String(i).padStart(3, "0")}`,
      campaign: campaign.name,
      channel: campaign.channel,
      ctr: 0.005 + random() * 0.045,
      cvr: 0.02 + random() * 0.1,
      orderValue: Math.round((10 + random() * 140) * 100) / 100,
    };
  });
  const s = options.zipf ?? 1.1;
  return {
    ads,
    adWeights: cumulative(ads.map((_, rank) => 1 / (rank + 1) ** s)),
    placeWeights: cumulative(PLACES.map(([, , weight]) => weight)),
  };
}

function cumulative(weights: number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  let running = 0;
  return weights.map((weight) => {
    running += weight / total;
    return running;
  });
}

/** Index of the first cumulative weight above a uniform draw (binary search). */
function pick(cumulativeWeights: readonly number[], draw: number): number {
  let lo = 0;
  let hi = cumulativeWeights.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cumulativeWeights[mid] as number) > draw) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export interface StreamOptions {
  seed: number;
  /** Prefix of event ids: unique per run, so runs never collide. */
  runId: string;
  /** Share of events that arrive late (up to `maxLateMs` old). */
  lateRatio?: number;
  maxLateMs?: number;
}

/** An endless source of events for one tenant: `next(now)` makes one event happening about now. */
export class EventStream {
  private readonly random: () => number;
  private count = 0;

  constructor(
    private readonly catalogue: Catalogue,
    private readonly options: StreamOptions,
  ) {
    this.random = mulberry32(options.seed);
  }

  next(now: number): IngestEvent {
    const random = this.random;
    const ad = this.catalogue.ads[pick(this.catalogue.adWeights, random())] as Ad;
    const [country, city] = PLACES[pick(this.catalogue.placeWeights, random())] as [string, string, number];
    const draw = random();
    let kind: EventKind = "impression";
    if (draw < ad.ctr * ad.cvr) kind = "conversion";
    else if (draw < ad.ctr) kind = "click";
    else if (draw < ad.ctr + 0.06) kind = "view";
    const late = random() < (this.options.lateRatio ?? 0.01);
    const ts = late ? now - random() * (this.options.maxLateMs ?? 10 * 60_000) : now - random() * 2000;
    let cost = 0;
    if (kind === "impression") cost = ad.channel.cpm / 1000;
    else if (kind === "click") cost = ad.channel.cpc * (0.6 + random() * 0.8);
    this.count++;
    return {
      id: `${this.options.runId}-${this.count.toString(36)}`,
      ts: new Date(Math.floor(ts)).toISOString(),
      kind,
      channel: ad.channel.name,
      campaign: ad.campaign,
      ad: ad.id,
      country,
      city,
      cost: money(cost),
      revenue: kind === "conversion" ? money(ad.orderValue) : "0",
    };
  }
}

/** Canonical decimal text with at most 6 decimals, as validation would leave it. */
function money(value: number): string {
  const text = value.toFixed(6).replace(/\.?0+$/, "");
  return text === "" ? "0" : text;
}
