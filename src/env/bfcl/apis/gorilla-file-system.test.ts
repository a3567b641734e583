// GorillaFileSystem against BFCL's behaviour: expected strings were produced by the upstream Python class.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BfclExecution } from "../executor.js";
import type { PyDict } from "../python/value.js";
import { loadBfclLongContext } from "../data.js";

const TREE: PyDict = {
  root: {
    alex: {
      type: "directory",
      contents: {
        docs: {
          type: "directory",
          contents: {
            "notes.txt": { type: "file", content: "beta\nalpha\r\nGamma\u2028end" },
            "log.txt": { type: "file", content: "one two\tthree\u00a0four" },
          },
        },
        "readme.md": { type: "file", content: "hi" },
      },
    },
  },
};

function fileSystem(config: PyDict = TREE, longContext = false): BfclExecution {
  return new BfclExecution(
    { id: "test_0", involved_classes: ["GorillaFileSystem"], initial_config: { GorillaFileSystem: config } },
    { longContext },
  );
}

function run(fs: BfclExecution, ...calls: string[]): string[] {
  return calls.map((call) => fs.executeText(call));
}

test("navigation: cd answers with the folder name, errors are BFCL's dicts, pwd starts at the root's name", () => {
  const fs = fileSystem();
  assert.deepEqual(run(fs, "cd(folder='missing')", "cd(folder='..')", "cd(folder='docs')", "pwd()", "cd('..')", "ls()"), [
    '{"error": "cd: missing: No such directory. You cannot use path to change directory."}',
    '{"error": "Cuurent directory is already the root. Cannot go back."}',
    '{"current_working_directory": "docs"}',
    '{"current_working_directory": "/alex/docs"}',
    "{}",
    '{"current_directory_content": ["docs", "readme.md"]}',
  ]);
  // An absolute path starts inside the root (whose own name is not part of it).
  assert.equal(fs.executeText("cd(folder='/alex/docs')"), '{"error": "cd: /alex/docs: No such directory. You cannot use path to change directory."}');
  assert.equal(fs.executeText("cd(folder='/docs')"), '{"current_working_directory": "docs"}');
});

test("files: create, write, read, and the invalid-name and exists errors", () => {
  const fs = fileSystem();
  assert.deepEqual(
    run(fs, "touch(file_name='a|b')", "mkdir(dir_name='docs')", "echo(content='x y', file_name='new.txt')", "cat(file_name='new.txt')", "cat(file_name='docs')", "echo(content='shown')"),
    [
      `{"error": "touch: cannot touch 'a|b': Invalid character"}`,
      `{"error": "mkdir: cannot create directory 'docs': File exists"}`,
      "None",
      '{"file_content": "x y"}',
      '{"error": "cat: docs: Is a directory"}',
      '{"terminal_output": "shown"}',
    ],
  );
  // Python raises where a name is not a str; BFCL records the exception text.
  assert.equal(fs.executeText("mkdir(dir_name=5)"), "Error during execution: argument of type 'int' is not iterable");
});

test("text tools count and split as Python's str does", () => {
  const fs = fileSystem();
  fs.executeText("cd(folder='docs')");
  assert.deepEqual(run(fs, "wc(file_name='notes.txt', mode='l')", "wc(file_name='log.txt', mode='w')", "wc(file_name='log.txt', mode='c')", "wc(file_name='log.txt', mode='x')"), [
    '{"count": 4, "type": "lines"}', // \r\n and U+2028 are line breaks
    '{"count": 4, "type": "words"}', // so is U+00A0 a space
    '{"count": 18, "type": "characters"}',
    `{"error": "wc: invalid mode 'x'"}`,
  ]);
  assert.equal(fs.executeText("sort(file_name='notes.txt')"), '{"sorted_content": "Gamma\\nalpha\\nbeta\\nend"}');
  assert.equal(fs.executeText("tail(file_name='notes.txt', lines=2)"), '{"last_lines": "Gamma\\nend"}');
  // content[-0:] is the whole list.
  assert.equal(fs.executeText("tail(file_name='notes.txt', lines=0)"), '{"last_lines": "beta\\nalpha\\nGamma\\nend"}');
  assert.equal(fs.executeText("grep(file_name='notes.txt', pattern='a')"), '{"matching_lines": ["beta", "alpha", "Gamma"]}');
  assert.equal(fs.executeText("diff(file_name1='notes.txt', file_name2='log.txt')"), '{"diff_lines": "- beta\\n+ one two\\tthree\\u00a0four"}');
});

test("find searches the current directory whatever the path, du rounds exact halves to even", () => {
  const fs = fileSystem();
  assert.equal(fs.executeText("find(path='elsewhere/', name='txt')"), '{"matches": ["elsewhere/docs/notes.txt", "elsewhere/docs/log.txt"]}');
  // 6784 bytes = 6.625 KB, which Python's "%.2f" prints as 6.62.
  fs.executeText(`echo(content='${"x".repeat(6784 - 44)}', file_name='pad')`);
  assert.equal(fs.executeText("du(human_readable=True)"), '{"disk_usage": "6.62 KB"}');
  assert.equal(fs.executeText("du()"), '{"disk_usage": "6784 bytes"}');
});

test("mv and cp keep BFCL's sharing: a copied directory shares its files with the original", () => {
  const fs = fileSystem();
  assert.equal(fs.executeText("cp(source='docs', destination='copy')"), `{"result": "'docs' copied to 'copy'"}`);
  run(fs, "cd(folder='copy')", "echo(content='changed', file_name='log.txt')", "cd(folder='..')", "cd(folder='docs')");
  assert.equal(fs.executeText("cat(file_name='log.txt')"), '{"file_content": "changed"}');
  run(fs, "cd(folder='..')");
  assert.equal(fs.executeText("mv(source='readme.md', destination='docs')"), `{"result": "'readme.md' moved to 'docs/readme.md'"}`);
  assert.equal(fs.executeText("mv(source='docs', destination='a/b')"), '{"error": "mv: no path allowed in destination. Only file name and folder name is supported for this operation."}');
  assert.equal(fs.executeText("rmdir(dir_name='docs')"), `{"error": "rmdir: failed to remove 'docs': Directory not empty"}`);
  // cp into a directory that already holds the name raises from _add_file.
  assert.equal(fs.executeText("touch(file_name='readme.md')"), "None");
  assert.equal(fs.executeText("cp(source='readme.md', destination='docs')"), "Error during execution: File 'readme.md' already exists in directory 'docs'.");
});

test("state: long_context then the root tree; long-context mode extends files and fills leaf directories", () => {
  const plain = fileSystem().state().GorillaFileSystem!;
  assert.deepEqual(Object.keys(plain), ["long_context", "root"]);
  const root = plain.root as PyDict;
  assert.equal(root.__class__, "Directory");
  assert.equal(root.name, "alex");

  const constants = loadBfclLongContext();
  const fs = fileSystem(TREE, true);
  fs.executeText("cd(folder='docs')");
  const listing = JSON.parse(fs.executeText("ls()")).current_directory_content as string[];
  const populate = constants.POPULATE_FILE_EXTENSION as string[];
  assert.deepEqual(listing, ["notes.txt", "log.txt", ...populate]);
  // log.txt is in FILES_TAIL_USED and keeps its content; notes.txt gets the filler appended.
  assert.equal(JSON.parse(fs.executeText("cat(file_name='log.txt')")).file_content, "one two\tthree\u00a0four");
  const notes = JSON.parse(fs.executeText("cat(file_name='notes.txt')")).file_content as string;
  assert.equal(notes, "beta\nalpha\r\nGamma\u2028end" + (constants.FILE_CONTENT_EXTENSION as string));
  // The root has a subdirectory, so it is not populated.
  fs.executeText("cd(folder='..')");
  assert.equal(fs.executeText("ls()"), '{"current_directory_content": ["docs", "readme.md"]}');
});

test("an empty config gives BFCL's default root named '/'", () => {
  const fs = fileSystem({});
  assert.equal(fs.executeText("pwd()"), '{"current_working_directory": "//"}');
  assert.equal((fs.state().GorillaFileSystem!.root as PyDict).name, "/");
});
