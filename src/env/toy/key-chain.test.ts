import { test } from "node:test";
import assert from "node:assert/strict";
import { KeyChainEnvironment } from "./key-chain.js";

test("key chain: answering with the secret letters opens every lock", async () => {
  const env = new KeyChainEnvironment({ length: 3, symbols: 8, seed: 7 });
  const [taskId] = await env.listTasks("train");
  const instance = await env.create(taskId);
  const digits = taskId.slice(3).split("").map(Number);
  assert.equal(instance.initial.messages[1].content, String(digits[0]));
  for (let i = 0; i < digits.length; i++) {
    const result = await instance.step({ role: "assistant", content: env.secret[digits[i]] });
    assert.equal(result.reward, 1);
    assert.equal(result.done, i === digits.length - 1);
  }
  assert.deepEqual(await instance.evaluate(), {
    score: 1,
    success: true,
    details: { turns: [{ passed: true }, { passed: true }, { passed: true }] },
  });
});

test("key chain: a wrong answer costs its share of the score and success", async () => {
  const env = new KeyChainEnvironment({ length: 2, symbols: 4, seed: 1 });
  const instance = await env.create("kc-01");
  const wrong = env.secret.find((letter) => letter !== env.secret[0])!;
  assert.equal((await instance.step({ role: "assistant", content: wrong })).reward, 0);
  assert.equal((await instance.step({ role: "assistant", content: env.secret[1] })).reward, 1);
  const evaluation = await instance.evaluate();
  assert.equal(evaluation.score, 0.5);
  assert.equal(evaluation.success, false);
});

test("key chain: sparse makes the outcome the success, and keeps every step's own reward", async () => {
  const env = new KeyChainEnvironment({ length: 3, symbols: 4, seed: 1, sparse: true });
  const wrong = env.secret.find((letter) => letter !== env.secret[2])!;
  // Two locks of three opened: the share would be 2/3; the sparse outcome is 0, and the steps still say which were right.
  const failed = await env.create("kc-012");
  const rewards = [];
  for (const answer of [env.secret[0], env.secret[1], wrong]) rewards.push((await failed.step({ role: "assistant", content: answer })).reward);
  assert.deepEqual(rewards, [1, 1, 0]);
  assert.deepEqual(await failed.evaluate(), {
    score: 0,
    success: false,
    details: { turns: [{ passed: true }, { passed: true }, { passed: false }] },
  });
  const solved = await env.create("kc-012");
  for (const digit of [0, 1, 2]) await solved.step({ role: "assistant", content: env.secret[digit] });
  assert.equal((await solved.evaluate()).score, 1);
  // A synthetic task (a setup) is scored the same way.
  const synthetic = await env.create("syn-1", { task: { turns: ["Open lock 3."], setup: { digits: [3, 0] } } });
  await synthetic.step({ role: "assistant", content: env.secret[3] });
  await synthetic.step({ role: "assistant", content: env.secret[0] === "a" ? "b" : "a" });
  assert.equal((await synthetic.evaluate()).score, 0);
  assert.throws(() => new KeyChainEnvironment({ sparse: "yes" }), /sparse/);
});

test("key chain: splits are disjoint and cover every chain; bad input is named", async () => {
  const env = new KeyChainEnvironment({ length: 3, symbols: 8 });
  const all = [...(await env.listTasks("train")), ...(await env.listTasks("val")), ...(await env.listTasks("test"))];
  assert.equal(new Set(all).size, 512);
  assert.ok((await env.listTasks("test")).length > 50);
  await assert.rejects(env.create("kc-9"), /no task 'kc-9'/);
  assert.throws(() => new KeyChainEnvironment({ length: 0 }), /length/);
  assert.throws(() => new KeyChainEnvironment({ colour: "red" }), /colour|Unrecognized/i);
});

test("key chain: the reference solution is the initial prompt, then letter and next digit in turn, and it succeeds", async () => {
  const env = new KeyChainEnvironment({ length: 3, symbols: 8, seed: 7 });
  const reference = (await env.referenceSolution("kc-502"))!;
  assert.deepEqual(
    reference.slice(1).map((m) => [m.role, m.content]),
    [["user", "5"], ["assistant", env.secret[5]], ["user", "0"], ["assistant", env.secret[0]], ["user", "2"], ["assistant", env.secret[2]]],
  );
  for (const taskId of await env.listTasks("test")) {
    const messages = (await env.referenceSolution(taskId))!;
    const instance = await env.create(taskId);
    assert.deepEqual(messages.slice(0, instance.initial.messages.length), instance.initial.messages);
    for (const message of messages.filter((m) => m.role === "assistant")) await instance.step(message);
    assert.equal((await instance.evaluate()).success, true, taskId);
  }
  await assert.rejects(env.referenceSolution("kc-9"), /no task 'kc-9'/);
});

test("key chain: repeat says the digit that many times, and the reference solution still reads it", async () => {
  const env = new KeyChainEnvironment({ length: 2, symbols: 4, seed: 1, repeat: 3 });
  const instance = await env.create("kc-21");
  assert.equal(instance.initial.messages[1].content, "2 2 2");
  assert.deepEqual((await instance.step({ role: "assistant", content: env.secret[2] })).observations, [{ role: "user", content: "1 1 1" }]);
  const reference = (await env.referenceSolution("kc-21"))!;
  assert.deepEqual(reference.filter((m) => m.role === "assistant").map((m) => m.content), [env.secret[2], env.secret[1]]);
  assert.throws(() => new KeyChainEnvironment({ repeat: 0 }), /repeat/);
});

test("key chain: train_digits keeps training chains to the seed digits while held-out chains use every digit", async () => {
  const full = new KeyChainEnvironment({ length: 3, symbols: 8 });
  const scarce = new KeyChainEnvironment({ length: 3, symbols: 8, train_digits: 4 });
  const train = await scarce.listTasks("train");
  assert.ok(train.length > 20);
  assert.ok(train.every((id) => [...id.slice(3)].every((d) => Number(d) < 4)), "a training chain uses an unseen digit");
  assert.deepEqual(train, (await full.listTasks("train")).filter((id) => [...id.slice(3)].every((d) => Number(d) < 4)));
  assert.deepEqual(await scarce.listTasks("test"), await full.listTasks("test"));
  assert.ok((await scarce.listTasks("test")).some((id) => [...id.slice(3)].some((d) => Number(d) >= 4)));
  // A withheld chain can still be created (its id is valid), it is only never offered as a seed task.
  assert.equal((await scarce.create("kc-777")).initial.messages[1].content, "7");
  assert.throws(() => new KeyChainEnvironment({ symbols: 4, train_digits: 5 }), /train_digits/);
});

test("key chain: with fewer letters than digits, the first digits take every letter once and the others share them", async () => {
  const env = new KeyChainEnvironment({ length: 3, symbols: 6, letters: 3, train_digits: 3 });
  assert.equal(env.secret.length, 6);
  assert.deepEqual([...env.secret.slice(0, 3)].sort(), ["a", "b", "c"]);
  assert.ok(env.secret.slice(3).every((letter) => ["a", "b", "c"].includes(letter)));
  // The seed chains (digits 0-2) show every letter; a held-out chain of unseen digits is still solved by its map.
  for (const taskId of await env.listTasks("test")) {
    const instance = await env.create(taskId);
    for (const d of [...taskId.slice(3)].map(Number)) await instance.step({ role: "assistant", content: env.secret[d] });
    assert.equal((await instance.evaluate()).success, true, taskId);
  }
  // Unset, the map is the same one-letter-per-digit map as before the option existed.
  assert.deepEqual(new KeyChainEnvironment({ symbols: 5 }).secret, new KeyChainEnvironment({ symbols: 5, letters: 5 }).secret);
  assert.throws(() => new KeyChainEnvironment({ symbols: 4, letters: 5 }), /letters/);
});

test("key chain: rare_train keeps a share of the training chains with unseen digits, the same ones every time", async () => {
  const options = { length: 3, symbols: 6, letters: 3, train_digits: 3 };
  const absent = await new KeyChainEnvironment(options).listTasks("train");
  const rare = await new KeyChainEnvironment({ ...options, rare_train: 0.15 }).listTasks("train");
  const withUnseen = (id: string) => [...id.slice(3)].some((d) => Number(d) >= 3);
  // Every seed chain of digits 0-2 is still there; of the ~127 training chains with a digit 3-5, ~15% are added.
  assert.deepEqual(rare.filter((id) => !withUnseen(id)), absent);
  const added = rare.filter(withUnseen);
  assert.ok(added.length >= 10 && added.length <= 30, `${added.length} rare chains`);
  assert.deepEqual(await new KeyChainEnvironment({ ...options, rare_train: 0.15 }).listTasks("train"), rare);
  // The held-out splits do not move.
  assert.deepEqual(await new KeyChainEnvironment({ ...options, rare_train: 0.15 }).listTasks("test"), await new KeyChainEnvironment(options).listTasks("test"));
  // All of them: the training split of the same chains without train_digits.
  const full = await new KeyChainEnvironment({ length: 3, symbols: 6, letters: 3 }).listTasks("train");
  assert.deepEqual(await new KeyChainEnvironment({ ...options, rare_train: 1 }).listTasks("train"), full);
  // A rare chain comes without a demonstration (its letter is found by trying); a seed chain and a held-out one with
  // the same digits' kind still have theirs.
  const env = new KeyChainEnvironment({ ...options, rare_train: 0.15 });
  assert.equal(await env.referenceSolution(added[0]), undefined);
  assert.ok(await env.referenceSolution(absent[0]));
  assert.ok(await env.referenceSolution((await env.listTasks("test")).find(withUnseen)!));
  assert.throws(() => new KeyChainEnvironment({ symbols: 6, rare_train: 0.1 }), /rare_train needs train_digits/);
});
