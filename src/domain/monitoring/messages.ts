// The monitor actor's message: a run, usually fired by its QStash schedule.
import { z } from "zod";

export const monitorMessage = z.object({
  /** Who asked: "schedule", or a person or test running it by hand. */
  reason: z.string().max(100).optional(),
});
export type MonitorMessage = z.infer<typeof monitorMessage>;
