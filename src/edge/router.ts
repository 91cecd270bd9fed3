// The edge app's router: Hono's default, with the match for each method and path kept. Routes are all added
// before the first request, so a match depends only on the method and path; most requests repeat a few paths
// and skip the router's search. Paths carrying ids are kept too, up to a bound, after which the kept matches
// start over.
import type { Result, Router } from "hono/router";
import { RegExpRouter } from "hono/router/reg-exp-router";
import { SmartRouter } from "hono/router/smart-router";
import { TrieRouter } from "hono/router/trie-router";

const MAX_KEPT_MATCHES = 1024;

export function keptMatchRouter<T>(): Router<T> {
  const inner: Router<T> = new SmartRouter({ routers: [new RegExpRouter(), new TrieRouter()] });
  const kept = new Map<string, Result<T>>();
  return {
    get name() {
      return `kept matches + ${inner.name}`;
    },
    add(method, path, handler) {
      kept.clear();
      inner.add(method, path, handler);
    },
    match(method, path) {
      const key = `${method} ${path}`;
      let result = kept.get(key);
      if (result === undefined) {
        result = inner.match(method, path);
        if (kept.size >= MAX_KEPT_MATCHES) kept.clear();
        kept.set(key, result);
      }
      return result;
    },
  };
}
