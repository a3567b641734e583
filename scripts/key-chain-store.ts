// What the key-chain scripts (ablation-locks.ts, key-chain-plateau.ts) share: a run store opened read-only, or a
// one-line error, and a stored key-chain trajectory read lock by lock.
import Database from "better-sqlite3";
import { z } from "zod";

/** A trajectory's steps: what the agent answered and whether the step was right (key-chain reports 1 or 0). */
const StoredSteps = z.looseObject({
  steps: z.array(z.looseObject({ action: z.looseObject({ content: z.string() }), reward: z.number().optional() })),
});

export function openStoreOrExit(path: string): Database.Database {
  try {
    return new Database(path, { readonly: true, fileMustExist: true });
  } catch (cause) {
    console.error(`cannot open run store ${path}: ${cause instanceof Error ? cause.message : String(cause)}`);
    process.exit(1);
  }
}

/** A trajectory of task kc-<digits>, lock by lock: the digit asked, the answer's first character ("" for none), and
 * whether the lock opened. A task id that is not key-chain's gives no locks. */
export function lockSteps(taskId: string, bodyJson: string): { digit: string; answer: string; right: boolean }[] {
  const digits = /^kc-(\d+)$/.exec(taskId)?.[1] ?? "";
  return StoredSteps.parse(JSON.parse(bodyJson)).steps.flatMap((step, i) =>
    i < digits.length ? [{ digit: digits[i], answer: step.action.content.trim().slice(0, 1), right: step.reward === 1 }] : [],
  );
}
