// Reading the actors' settings from the environment: an empty variable means "use the default", and a bad one
// stops the host at start-up naming the variable, instead of surfacing later as a strange delay or pool size.

export type Env = Record<string, string | undefined>;

/** The integer in `env[name]` (at least `min`), or `fallback` when it is unset or empty. */
export function readInt(env: Env, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min)
    throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}
