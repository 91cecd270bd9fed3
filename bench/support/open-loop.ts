// The open-loop load the benches drive: calls start on a fixed schedule whether or not earlier ones have
// answered, as independent users' requests do. Each latency counts from the call's scheduled start, so a stall
// shows in every call it delays instead of hiding behind fewer calls being sent (coordinated omission).
import type { LoopResult } from "./closed-loop.ts";

/** `call()` started `perSecond` times a second for `seconds`. */
export async function openLoop(
  perSecond: number,
  seconds: number,
  call: () => Promise<void>,
): Promise<LoopResult> {
  const latencies: number[] = [];
  const inFlight: Promise<void>[] = [];
  const interval = 1000 / perSecond;
  const started = performance.now();
  const total = Math.round(perSecond * seconds);
  for (let i = 0; i < total; i++) {
    const scheduled = started + i * interval;
    const wait = scheduled - performance.now();
    if (wait >= 1) await Bun.sleep(wait);
    inFlight.push(call().then(() => void latencies.push(performance.now() - scheduled)));
  }
  await Promise.all(inFlight);
  latencies.sort((a, b) => a - b);
  return { latencies, seconds: (performance.now() - started) / 1000 };
}
