import { defaultBackoffMs, MAX_RETRY_DELAY_MS, parseRetryAfter } from "../protocol/backoff.ts";
import { parseCron } from "../protocol/cron.ts";
import { newDlqId, newMessageId } from "../protocol/ids.ts";
import { parseRetryDelay } from "../protocol/retry-delay.ts";
import type { AttemptOutcome, BrokerStore, ClaimedMessage, ClaimResult } from "../store/broker-store.ts";
import type { MessageDraft, StoredMessage } from "../store/message-record.ts";
import { type AttemptResult, attemptDelivery } from "./attempt.ts";
import { callbackBody, callbackDraft } from "./callbacks.ts";
import type { DeliverySigner } from "./signature.ts";

export interface DispatcherOptions {
  /** Most deliveries this broker runs at once. */
  maxInFlight: number;
  /** How long a claim holds a message before another broker may take it; renewed while delivering. */
  leaseMs: number;
  /** Safety-net look for due work (expired leases, missed notices). */
  sweepMs: number;
  /** Multiplies every broker-side wait: delays, not-before distances, retry backoff. */
  timeScale: number;
  /** Per-attempt timeout when the message sets none. */
  defaultTimeoutMs: number;
  log: (line: string) => void;
}

/** How many due entries one claim call may look at before yielding. */
const SCAN_LIMIT = 500;
const SCHEDULES_PER_CLAIM = 20;

/**
 * Moves due messages to their destinations. Event-driven: it claims when told something became due
 * (a publish here, a notice from another broker, a settled attempt that freed a slot), at the earliest
 * due time it knows of, and on a periodic sweep as a safety net.
 */
export class Dispatcher {
  private readonly inFlight = new Map<string, ClaimedMessage>();
  private readonly running = new Set<Promise<void>>();
  private claiming = false;
  private claimAgain = false;
  /** The last claim filled every free slot, so more may be due: claim again when a slot frees. */
  private backlog = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  /** Redis clock minus the local clock, so Redis due times can drive local timers. */
  private clockOffset = 0;
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  private renewTimer: ReturnType<typeof setInterval> | undefined;
  private firingSchedules = false;
  private stopped = false;
  private lastErrorLog = 0;

  constructor(
    private readonly store: BrokerStore,
    private readonly signer: DeliverySigner,
    private readonly options: DispatcherOptions,
  ) {}

  start(): void {
    this.sweepTimer = setInterval(() => this.kick(), this.options.sweepMs);
    this.renewTimer = setInterval(() => void this.renewLeases(), Math.max(50, this.options.leaseMs / 3));
    this.kick();
  }

  /** Stops claiming, then waits (up to `graceMs`) for attempts under way; unfinished ones are redelivered. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweepTimer);
    clearInterval(this.renewTimer);
    clearTimeout(this.timer);
    await Promise.race([Promise.allSettled([...this.running]), Bun.sleep(graceMs)]);
  }

  /** Something is due at `dueAt` (Redis clock, ms): claim now or set the timer for then. */
  notifyDue(dueAt: number): void {
    const local = dueAt - this.clockOffset;
    if (local <= Date.now()) this.kick();
    else this.wakeAt(local);
  }

  /** Something is due `ms` from now (relative times need no clock translation). */
  notifyDueIn(ms: number): void {
    if (ms <= 0) this.kick();
    else this.wakeAt(Date.now() + ms);
  }

  /** Looks for due work now (coalesced with a claim already running). */
  kick(): void {
    if (this.stopped) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    void this.claimLoop();
  }

  private wakeAt(localMs: number): void {
    if (localMs >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = localMs;
    this.timer = setTimeout(
      () => {
        this.timerAt = Number.POSITIVE_INFINITY;
        this.kick();
      },
      Math.max(1, localMs - Date.now()),
    );
  }

  private async claimLoop(): Promise<void> {
    this.claiming = true;
    try {
      do {
        this.claimAgain = false;
        const room = this.options.maxInFlight - this.inFlight.size;
        if (room <= 0) {
          this.backlog = true;
          break;
        }
        const started = Date.now();
        const result = await this.store.claim(room, this.options.leaseMs, SCAN_LIMIT, SCHEDULES_PER_CLAIM);
        this.clockOffset = result.now - Math.round((started + Date.now()) / 2);
        for (const claimed of result.claimed) this.track(this.deliver(claimed), claimed);
        if (result.dueSchedules.length > 0) void this.fireSchedules(result);
        this.backlog = result.more || result.claimed.length >= room;
        if (result.more) this.claimAgain = true;
        else if (result.nextDue >= 0) this.wakeAt(result.nextDue - this.clockOffset);
      } while (this.claimAgain && !this.stopped);
    } catch (error) {
      this.logError("claim", error);
    } finally {
      this.claiming = false;
    }
  }

  private track(work: Promise<void>, claimed: ClaimedMessage): void {
    this.inFlight.set(claimed.message.id, claimed);
    this.running.add(work);
    work.finally(() => {
      this.running.delete(work);
      this.inFlight.delete(claimed.message.id);
      if (this.backlog) this.kick();
    });
  }

  private async deliver(claimed: ClaimedMessage): Promise<void> {
    const { message } = claimed;
    try {
      const result = await attemptDelivery(
        message,
        this.signer,
        message.timeoutMs ?? this.options.defaultTimeoutMs,
      );
      const outcome = this.decide(message, result);
      const callbacks = this.callbacksFor(message, result, outcome);
      const settled = await this.store.settle(claimed, outcome, result, callbacks);
      if (settled.promoted > 0) this.kick();
      else if (outcome.kind === "retry") this.wakeAt(Date.now() + outcome.delayMs);
    } catch (error) {
      // Redis failed mid-settle: the lease runs out and the message is delivered again.
      this.logError("settle", error);
    }
  }

  /** What happens after an attempt: done, another try after a wait, or the DLQ. */
  private decide(message: StoredMessage, result: AttemptResult): AttemptOutcome {
    if (result.status !== undefined && result.status >= 200 && result.status < 300)
      return { kind: "delivered" };
    if (result.nonRetryable || message.retried >= message.retries) {
      return { kind: "failed", dlqId: newDlqId(Date.now() + this.clockOffset) };
    }
    return { kind: "retry", delayMs: this.retryDelayMs(message, result) };
  }

  private retryDelayMs(message: StoredMessage, result: AttemptResult): number {
    let delay = parseRetryAfter(result.retryAfter, Date.now());
    if (delay === undefined && message.retryDelay !== undefined) {
      const expression = parseRetryDelay(message.retryDelay);
      if (expression.ok) delay = expression.delay(message.retried);
    }
    delay ??= defaultBackoffMs(message.retried + 1);
    return Math.min(MAX_RETRY_DELAY_MS, delay) * this.options.timeScale;
  }

  /** A callback after every answered attempt; a failure callback once the message lands in the DLQ. */
  private callbacksFor(
    message: StoredMessage,
    result: AttemptResult,
    outcome: AttemptOutcome,
  ): { id: string; draft: MessageDraft }[] {
    if (message.isCallback) return [];
    const callbacks: { id: string; draft: MessageDraft }[] = [];
    if (message.callback !== undefined && result.status !== undefined) {
      const body = callbackBody(message, result);
      callbacks.push({
        id: newMessageId(),
        draft: callbackDraft(message.callback, message.callbackOptions, body, message.callerIp),
      });
    }
    if (message.failureCallback !== undefined && outcome.kind === "failed") {
      const body = callbackBody(message, result, { dlqId: outcome.dlqId });
      callbacks.push({
        id: newMessageId(),
        draft: callbackDraft(message.failureCallback, message.failureCallbackOptions, body, message.callerIp),
      });
    }
    return callbacks;
  }

  private async renewLeases(): Promise<void> {
    if (this.inFlight.size === 0) return;
    const held = [...this.inFlight.values()].map(({ message, token }) => ({ id: message.id, token }));
    try {
      await this.store.renew(this.options.leaseMs, held);
    } catch (error) {
      this.logError("lease renewal", error);
    }
  }

  /** Fires due schedules; each fire is a compare-and-set, so brokers racing for one fire it once. */
  private async fireSchedules(claim: ClaimResult): Promise<void> {
    if (this.firingSchedules) return;
    this.firingSchedules = true;
    try {
      for (const due of claim.dueSchedules) {
        const schedule = await this.store.getSchedule(due.id);
        const cron =
          schedule === undefined ? undefined : parseCron(String(schedule.settings.get("cron") ?? ""));
        if (cron === undefined || !cron.ok) continue;
        const next = cron.schedule.nextAfter(Math.max(claim.now, Number(due.fireAt))) ?? -1;
        await this.store.fireSchedule(due.id, due.fireAt, next, newMessageId());
      }
    } catch (error) {
      this.logError("schedule", error);
    } finally {
      this.firingSchedules = false;
      this.kick();
    }
  }

  private logError(what: string, error: unknown): void {
    // At most one line a second: a Redis outage must not flood the log.
    if (Date.now() - this.lastErrorLog < 1000) return;
    this.lastErrorLog = Date.now();
    this.options.log(`qstash: ${what} failed: ${(error as Error).message}`);
  }
}
