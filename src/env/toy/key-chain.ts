// Key chain: a small built-in environment that a tiny model trained from scratch on CPU can master, so that the
// whole evolve loop can be shown to learn in minutes. Each task is a chain of digits; at every step the user names
// one digit and the agent must answer with the letter that opens it. The digit → letter map is the environment's
// secret and is the same for every task, so what is learnt on training chains carries over to held-out ones.
//
// The outcome is the fraction of keys opened (success = all of them; with `sparse`, the outcome is the success), and every step reports whether it was right
// (StepResult.reward), which is what a rule-based judge may use in place of the LLM judge.
import { EvolverError } from "../../core/errors.js";
import type { ChatMessage } from "../../core/messages.js";
import { TaskSpec, type EnvCapabilities, type EnvInstance, type EnvProfile, type Environment, type HindsightTask, type Evaluation, type ExploredStep, type Split, type StepResult } from "../types.js";
import { z } from "zod";
import { mulberry32 } from "../../core/random.js";

export const KeyChainOptions = z
  .object({
    /** Digits per chain. */
    length: z.number().int().min(1).max(6).default(3),
    /** How many distinct digits (and letters) there are. */
    symbols: z.number().int().min(2).max(10).default(8),
    /** Picks the secret map. */
    seed: z.number().int().default(7),
    /** How many times the user's message repeats its digit ("3 3 3 3"): a model trained from scratch attends to a
     * repeated digit sooner, so it learns to condition its answer on the digit before it settles on one letter. */
    repeat: z.number().int().min(1).max(16).default(1),
    /** Data scarcity: training chains use only digits below this number, while held-out chains (val, test) use every
     * digit, so the seed tasks cover only part of what held-out tasks need. Unset: every chain in every split. */
    train_digits: z.number().int().min(1).max(10).optional(),
    /** With train_digits: the share of training chains that need a digit at or above train_digits that are kept
     * (picked by a stable hash of the chain's id), so those digits are rare in the seed tasks instead of absent. The
     * kept chains have no reference solution: the demonstrations (an SFT warm start) cover the first train_digits
     * digits only, and a rare digit's letter is found by trying, now and then in training: enough for a success to
     * be remembered (an experience) or explored again (a synthetic task), too seldom for plain training to learn it
     * soon. */
    rare_train: z.number().min(0).max(1).default(0),
    /** How many distinct letters the map uses; unset: one per digit. With fewer letters than digits, several digits
     * share a letter: digits below `letters` take every letter once, each digit above a seeded one of them. So chains
     * of the first digits show every answer there is, but not which one an unseen digit takes (with train_digits:
     * the policy can answer an unseen digit, it cannot know which letter without trying). */
    letters: z.number().int().min(2).max(10).optional(),
    /** The outcome (Evaluation.score, a rollout's reward) is 1 only when every lock opens, else 0, instead of the
     * share of locks opened: a task-success outcome like AgentEvolver's `sparse` (AppWorld's all checks passed). Each
     * step still reports whether its letter was right (StepResult.reward), so a rule judge or experience extractor
     * reads the same per-step feedback; only the outcome the advantages start from is coarser. */
    sparse: z.boolean().default(false),
  })
  .strict()
  .refine((o) => o.train_digits === undefined || o.train_digits <= o.symbols, {
    path: ["train_digits"],
    error: "train_digits must be at most symbols",
  })
  .refine((o) => o.rare_train === 0 || o.train_digits !== undefined, {
    path: ["rare_train"],
    error: "rare_train needs train_digits (the digits that are not rare)",
  })
  .refine((o) => o.letters === undefined || o.letters <= o.symbols, {
    path: ["letters"],
    error: "letters must be at most symbols",
  });
export type KeyChainOptions = z.infer<typeof KeyChainOptions>;

const LETTERS = "abcdefghij";

/** A key-chain task spec's setup: the chain's digits (a synthetic task may be of any length up to 6). */
const KeyChainSetup = z.object({ digits: z.array(z.number().int().min(0)).min(1).max(6) }).strict();
const KeyChainParams = z.object({ task: TaskSpec.optional() }).strict();


/** FNV-1a: a stable hash of a task id. */
function hashOf(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** Held-out chains: a stable hash of the task id puts ~20% in test and ~10% in val. */
function splitOf(taskId: string): Split {
  const bucket = hashOf(taskId) % 10;
  return bucket < 2 ? "test" : bucket < 3 ? "val" : "train";
}

/** Whether a training chain with a rare digit is kept: a hash independent of the split's picks it with probability `share`. */
function keptRare(taskId: string, share: number): boolean {
  return hashOf(`rare:${taskId}`) / 2 ** 32 < share;
}

export class KeyChainEnvironment implements Environment {
  readonly name = "key-chain";
  readonly options: KeyChainOptions;
  /** digit → letter */
  readonly secret: string[];
  private readonly tasks: Map<Split, string[]>;
  /** Training chains kept by rare_train: offered without a reference solution. */
  private readonly rare = new Set<string>();

  constructor(options: Record<string, unknown> = {}) {
    const parsed = KeyChainOptions.safeParse(options);
    if (!parsed.success) {
      throw new EvolverError("ENV_BAD_OPTIONS", `key-chain options: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
    }
    this.options = parsed.data;
    const distinct = this.options.letters ?? this.options.symbols;
    const letters = LETTERS.slice(0, distinct).split("");
    const random = mulberry32(this.options.seed);
    for (let i = letters.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [letters[i], letters[j]] = [letters[j], letters[i]];
    }
    for (let d = distinct; d < this.options.symbols; d++) letters.push(letters[Math.floor(random() * distinct)]);
    this.secret = letters;
    this.tasks = new Map([["train", []], ["val", []], ["test", []]]);
    const total = this.options.symbols ** this.options.length;
    for (let n = 0; n < total; n++) {
      let digits = "";
      for (let k = 0, m = n; k < this.options.length; k++, m = Math.floor(m / this.options.symbols)) digits += String(m % this.options.symbols);
      const id = `kc-${digits}`;
      const split = splitOf(id);
      const scarce = this.options.train_digits;
      // A training chain that needs a digit outside the seed set is withheld from every split, not moved elsewhere
      // (all of them, or all but a rare_train share).
      const rare = scarce !== undefined && [...digits].some((d) => Number(d) >= scarce);
      if (split === "train" && rare && !keptRare(id, this.options.rare_train)) continue;
      if (split === "train" && rare) this.rare.add(id);
      this.tasks.get(split)!.push(id);
    }
  }

  async listTasks(split: Split): Promise<string[]> {
    return [...this.tasks.get(split)!];
  }

  /** Every step reports whether its letter was right. */
  async capabilities(): Promise<EnvCapabilities> {
    return { stepRewards: true, decodesCalls: false };
  }

  async profile(): Promise<EnvProfile> {
    return {
      name: this.name,
      description: "Answer each digit with the one letter that opens it; the map is fixed but secret.",
      entities: [
        {
          name: "lock",
          description: "A lock named by a digit.",
          attributes: { digit: `0-${this.options.symbols - 1}` },
          operations: [{ name: "open", description: "Answer with a single letter." }],
        },
      ],
      taskPreferences: { numEntities: this.options.length, numOperations: 1, relationDifficulty: 1, notes: "" },
    };
  }

  async create(taskId: string, params: Record<string, unknown> = {}): Promise<EnvInstance> {
    const parsed = KeyChainParams.safeParse(params);
    if (!parsed.success) throw new EvolverError("ENV_BAD_PARAMS", `key-chain params: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
    if (parsed.data.task) {
      const setup = KeyChainSetup.safeParse(parsed.data.task.setup);
      const problem = !setup.success
        ? setup.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")
        : setup.data.digits.some((d) => d >= this.options.symbols) ? `digits must be below ${this.options.symbols}` : undefined;
      if (problem || !setup.success) throw new EvolverError("ENV_BAD_PARAMS", `key-chain task setup: ${problem}`);
      return new KeyChainInstance(taskId, setup.data.digits, this.secret, this.options.repeat, this.options.sparse);
    }
    const digits = /^kc-(\d+)$/.exec(taskId)?.[1];
    if (!digits || digits.length !== this.options.length || [...digits].some((d) => Number(d) >= this.options.symbols)) {
      throw new EvolverError("ENV_UNKNOWN_TASK", `key-chain has no task '${taskId}' (expected kc- followed by ${this.options.length} digits below ${this.options.symbols})`, {
        details: { taskId },
      });
    }
    return new KeyChainInstance(taskId, [...digits].map(Number), this.secret, this.options.repeat, this.options.sparse);
  }

  /** The chain written out: its digits, and each lock's letter as the reference solution. */
  async taskSpec(taskId: string): Promise<TaskSpec> {
    const instance = await this.create(taskId);
    const digits = (instance as KeyChainInstance).digits;
    return { turns: digits.map((d) => `Open lock ${d}.`), setup: { digits }, solution: digits.map((d) => [{ text: this.secret[d] }]) };
  }

  /** A chain of locks drawn by seed over every digit the profile names (entity: lock). */
  async explorationSetup(entity: string, seed: number): Promise<{ digits: number[] }> {
    if (entity !== "lock") throw new EvolverError("ENV_BAD_PARAMS", `key-chain has no entity '${entity}'; known: lock`);
    const random = mulberry32(seed);
    return { digits: Array.from({ length: this.options.length }, () => Math.floor(random() * this.options.symbols)) };
  }

  /** The locks that opened, in order, with the letters that opened them; the requests name the locks (as taskSpec's
   * do), since several digits may share a letter and only the digits tell such tasks apart. */
  async hindsightTask(setup: Record<string, unknown>, steps: ExploredStep[]): Promise<HindsightTask | undefined> {
    const parsed = KeyChainSetup.safeParse(setup);
    if (!parsed.success) return undefined;
    const opened = steps.flatMap((step, i) => (step.reward === 1 && i < parsed.data.digits.length ? [{ digit: parsed.data.digits[i], letter: step.action.content.trim().charAt(0) }] : []));
    if (opened.length === 0) return undefined;
    return { turns: opened.map((o) => `Open lock ${o.digit}.`), setup: { digits: opened.map((o) => o.digit) }, solution: opened.map((o) => [{ text: o.letter }]) };
  }

  /** Every lock opened with its secret letter; none for a rare training chain (rare_train). */
  async referenceSolution(taskId: string): Promise<ChatMessage[] | undefined> {
    if (this.rare.has(taskId)) return undefined;
    const instance = await this.create(taskId);
    const messages = structuredClone(instance.initial.messages);
    for (let done = false; !done; ) {
      const digit = Number(messages[messages.length - 1].content.charAt(0));
      const action: ChatMessage = { role: "assistant", content: this.secret[digit] };
      const result = await instance.step(action);
      messages.push(action, ...result.observations);
      done = result.done;
    }
    return messages;
  }
}

class KeyChainInstance implements EnvInstance {
  readonly initial;
  private position = 0;
  private readonly correct: boolean[] = [];

  constructor(
    readonly taskId: string,
    readonly digits: number[],
    private readonly secret: string[],
    private readonly repeat: number,
    private readonly sparse: boolean,
  ) {
    this.initial = {
      // A short system turn: without one the chat template would add its long default, all of it tokens to read.
      messages: [
        { role: "system", content: "Open each lock with one letter." },
        { role: "user", content: this.prompt(digits[0]) },
      ] satisfies ChatMessage[],
      tools: [],
      info: { length: digits.length },
    };
  }

  async step(action: ChatMessage): Promise<StepResult> {
    if (this.position >= this.digits.length) {
      throw new EvolverError("ENV_EPISODE_DONE", `task ${this.taskId} is already finished`);
    }
    const answer = action.content.trim().charAt(0);
    const right = answer === this.secret[this.digits[this.position]];
    this.correct.push(right);
    this.position += 1;
    const done = this.position >= this.digits.length;
    const observations: ChatMessage[] = done ? [] : [{ role: "user", content: this.prompt(this.digits[this.position]) }];
    return { observations, done, reward: right ? 1 : 0, info: { correct: right } };
  }

  private prompt(digit: number): string {
    return Array.from({ length: this.repeat }, () => String(digit)).join(" ");
  }

  async evaluate(): Promise<Evaluation> {
    const opened = this.correct.filter(Boolean).length;
    const success = opened === this.digits.length;
    return {
      score: this.sparse ? (success ? 1 : 0) : opened / this.digits.length,
      success,
      details: { turns: this.digits.map((_, i) => ({ passed: this.correct[i] === true })) },
    };
  }

  async release(): Promise<void> {}
}
