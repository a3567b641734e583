// What the key-chain scripts (ablation-locks.ts, key-chain-plateau.ts) share: a run store opened read-only, or a
// one-line error, and the part of a stored trajectory's body they read.
import Database from "better-sqlite3";
import { z } from "zod";

/** A trajectory's steps: what the agent answered and whether the step was right (key-chain reports 1 or 0). */
export const StoredSteps = z.looseObject({
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
