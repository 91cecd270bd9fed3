// Every route area's OpenAPI description beyond the query, meta, health and admin routes.
import type { EdgeServices } from "../../context.ts";
import { influencerSettings } from "../../services/influencer-settings.ts";
import type { DocArea } from "../document.ts";
import { adsDocs } from "./ads.ts";
import { eventsDocs } from "./events.ts";
import { importsDocs } from "./imports.ts";
import { influencersDocs } from "./influencers.ts";
import { statsDocs } from "./stats.ts";

/** The areas as this deployment serves them (the influencer bounds come from its settings). */
export function routeAreaDocs(services: EdgeServices): DocArea[] {
  return [eventsDocs, adsDocs, importsDocs, influencersDocs(influencerSettings(services)), statsDocs];
}
