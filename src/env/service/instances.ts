// The live instances of the environment service, keyed by instance_id. Calls on one instance run one at a time
// (an episode is a sequence); instances are independent of each other. An instance nobody touched for
// `idleTimeoutMs` is released by `sweep`, and its id is remembered for a while so a late caller hears "expired"
// rather than "unknown".
import { EvolverError } from "../../core/errors.js";
import type { ToolSchema } from "../../core/messages.js";
import type { EnvInstance } from "../types.js";

export interface LiveInstance {
  readonly id: string;
  readonly envType: string;
  readonly instance: EnvInstance;
  /** The tools offered now: the initial ones, replaced when a step changes them. */
  tools: ToolSchema[];
  lastUsedMs: number;
  /** Calls running or queued on this instance; a busy instance never expires. */
  pending: number;
  /** The end of this instance's queue of calls. */
  tail: Promise<void>;
}

const rememberedExpiredIds = 10_000;

export class InstanceTable {
  private readonly live = new Map<string, LiveInstance>();
  /** Ids whose create is still running: they count against the limit and cannot be taken twice. */
  private readonly reserved = new Set<string>();
  /** Recently expired ids, oldest first, with the time they expired. */
  private readonly expired = new Map<string, number>();

  constructor(private readonly options: { idleTimeoutMs: number; maxInstances: number }) {}

  get size(): number {
    return this.live.size;
  }

  /** Claims an id before the (possibly slow) create runs, so two concurrent creates cannot both take it. */
  reserve(id: string): void {
    if (this.live.has(id) || this.reserved.has(id)) {
      throw new EvolverError("ENV_INSTANCE_EXISTS", `instance_id '${id}' is already in use; release it first or pick another id`, {
        details: { instanceId: id },
      });
    }
    if (this.live.size + this.reserved.size >= this.options.maxInstances) {
      throw new EvolverError("ENV_SERVICE_FULL", `the service already holds ${this.options.maxInstances} instances (its limit); release some first`, {
        details: { maxInstances: this.options.maxInstances },
      });
    }
    this.reserved.add(id);
    this.expired.delete(id);
  }

  /** Gives up a reservation whose create failed. */
  unreserve(id: string): void {
    this.reserved.delete(id);
  }

  add(id: string, envType: string, instance: EnvInstance, nowMs: number): void {
    this.reserved.delete(id);
    this.live.set(id, { id, envType, instance, tools: instance.initial.tools, lastUsedMs: nowMs, pending: 0, tail: Promise.resolve() });
  }

  /** The live instance, or ENV_INSTANCE_UNKNOWN / ENV_INSTANCE_EXPIRED naming the id. */
  get(id: string): LiveInstance {
    const entry = this.live.get(id);
    if (entry) return entry;
    throw this.missing(id);
  }

  /** Why `id` names no live instance. */
  missing(id: string): EvolverError {
    if (this.expired.has(id)) {
      return new EvolverError("ENV_INSTANCE_EXPIRED", `instance '${id}' expired after ${this.options.idleTimeoutMs / 1000} s without calls and was released`, {
        details: { instanceId: id, idleTimeoutMs: this.options.idleTimeoutMs },
      });
    }
    return new EvolverError("ENV_INSTANCE_UNKNOWN", `no instance '${id}' (never created, or already released)`, { details: { instanceId: id } });
  }

  /** Takes the instance out of the table; later calls naming it get ENV_INSTANCE_UNKNOWN. */
  remove(id: string): LiveInstance | undefined {
    const entry = this.live.get(id);
    this.live.delete(id);
    return entry;
  }

  /** Removes and returns every idle instance whose last call is older than the timeout. */
  sweep(nowMs: number): LiveInstance[] {
    const idle: LiveInstance[] = [];
    for (const entry of this.live.values()) {
      if (entry.pending === 0 && nowMs - entry.lastUsedMs > this.options.idleTimeoutMs) idle.push(entry);
    }
    for (const entry of idle) {
      this.live.delete(entry.id);
      this.expired.set(entry.id, nowMs);
      if (this.expired.size > rememberedExpiredIds) this.expired.delete(this.expired.keys().next().value as string);
    }
    return idle;
  }

  /** Removes and returns every live instance (for shutdown). */
  drain(): LiveInstance[] {
    const all = [...this.live.values()];
    this.live.clear();
    return all;
  }
}

/** Runs `call` after the calls already queued on this instance, keeping it busy (unexpirable) meanwhile. */
export function runExclusive<T>(entry: LiveInstance, nowMs: number, call: () => Promise<T>): Promise<T> {
  entry.pending += 1;
  entry.lastUsedMs = nowMs;
  const result = entry.tail.then(call);
  entry.tail = result.then(
    () => finish(entry),
    () => finish(entry),
  );
  return result;
}

function finish(entry: LiveInstance): void {
  entry.pending -= 1;
  entry.lastUsedMs = Date.now();
}
