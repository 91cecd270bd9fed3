// Runs the edge app on Cloudflare Workers (wrangler.toml `main`); configuration comes from the env bindings.
import type { Hono } from "hono";
import { createApp } from "./app.ts";
import type { EdgeEnv } from "./context.ts";
import { EdgeConfigError, servicesFromEnv } from "./env.ts";

// Bindings stay the same for an isolate's life, so the app is built once per bindings object.
const apps = new WeakMap<object, Hono<EdgeEnv>>();

function appFor(env: Record<string, unknown>): Hono<EdgeEnv> {
  let app = apps.get(env);
  if (app === undefined) {
    app = createApp(servicesFromEnv(env));
    apps.set(env, app);
  }
  return app;
}

export default {
  fetch(request: Request, env: Record<string, unknown>): Response | Promise<Response> {
    try {
      return appFor(env).fetch(request);
    } catch (error) {
      if (!(error instanceof EdgeConfigError)) throw error;
      const body = { error: { code: "misconfigured", message: error.message, requestId: "" } };
      return Response.json(body, { status: 500 });
    }
  },
};
