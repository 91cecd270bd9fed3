import type { Dispatcher } from "../delivery/dispatcher.ts";
import type { BrokerStore } from "../store/broker-store.ts";

/** What every route needs. */
export interface BrokerContext {
  store: BrokerStore;
  dispatcher: Dispatcher;
  /** Identifies this broker in wake-up notices, so it ignores its own. */
  brokerId: string;
  token: string;
  currentSigningKey: string;
  nextSigningKey: string;
  timeScale: number;
  maxBodyBytes: number;
  log: (line: string) => void;
}

/** A request with its raw path (never decoded or normalised: destinations are taken from it verbatim). */
export interface RouteRequest {
  request: Request;
  method: string;
  /** Path and query exactly as sent, e.g. `/v2/publish/https://a.example/x?y=1`. */
  rawPath: string;
  /** The path without the query, split on `/` after `/v2/`. */
  query: URLSearchParams;
  callerIp?: string;
}
