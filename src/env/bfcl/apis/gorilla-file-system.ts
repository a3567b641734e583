// BFCL's GorillaFileSystem (gorilla_file_system.py at the v3 data commit), rewritten from its behaviour: a tree of
// directories and files with a current directory, and shell-like methods that answer with small dicts.
//
// Upstream quirks are kept on purpose, because recorded results and states depend on them:
// - nodes are shared by reference: `mv` of a directory gives the new node the old node's contents dict (the
//   children keep their old parent), and `cp` gives it a shallow copy (children are shared), so later edits
//   through one path show through the other, and `cd ..` can climb into a detached node;
// - `pwd` always walks up to the top (its stop test compares a name with a directory, which is never equal), so
//   the path starts with the root's own name;
// - `find` searches the current directory whatever `path` says and only uses `path` as the prefix of the results;
// - `cp` into a directory that already holds the name raises from `_add_file`/`_add_directory` (the "File exists"
//   check it makes first looks for "dest/source", which never matches).
import { pyStr } from "../python/repr.js";
import { describePyType, num, type PyDict, type PyValue } from "../python/value.js";
import { longContextConstants } from "./long-context-constants.js";
import { arg, method, type MethodArgs } from "./method-table.js";
import { isFloatValue, isPyNumeric, pyRoundFloat, pyTruthy, requireStr } from "./python-ops.js";
import { comparePyStrings, pyLength, pySplitLines, pySplitWhitespace, pyUtf8Length } from "./python-text.js";
import {
  containsSlash,
  FsDirectory,
  FsFile,
  has,
  hasInvalidChar,
  nameArg,
  readText,
  serialiseNode,
  type FsNode,
} from "./gorilla-file-tree.js";
import { BfclCallError, type BfclApi, type BfclApiClass, type BfclMethod } from "./types.js";

interface LongContextFiles {
  tailUsed: Set<string>;
  contentExtension: string;
  populate: string[];
}

let longContextFiles: LongContextFiles | undefined;

function longContextFileConstants(): LongContextFiles {
  if (!longContextFiles) {
    const constants = longContextConstants();
    longContextFiles = {
      tailUsed: new Set(constants.FILES_TAIL_USED as string[]),
      contentExtension: constants.FILE_CONTENT_EXTENSION as string,
      populate: constants.POPULATE_FILE_EXTENSION as string[],
    };
  }
  return longContextFiles;
}

// A directory can end up inside itself (cp of a directory into itself); Python then hits its recursion limit.
const MAX_DEPTH = 990;

function recursionError(): BfclCallError {
  return new BfclCallError("maximum recursion depth exceeded");
}

/** Python's `f"{x:.2f}"`: exact halves (6.625 = 6784/1024) go to even, where toFixed would round up. */
function formatFixed2(x: number): string {
  return pyRoundFloat(x, 2).value.toFixed(2);
}

class GorillaFileSystemInstance implements BfclApi {
  private longContext = false;
  private root = new FsDirectory("/", null);
  private currentDir = this.root;
  readonly methods: Record<string, BfclMethod>;

  constructor() {
    this.methods = {
      pwd: method("", () => this.pwd()),
      ls: method("a=", (args) => this.ls(arg(args, "a", false))),
      cd: method("folder", (args) => this.cd(args.folder!)),
      mkdir: method("dir_name", (args) => this.mkdir(args.dir_name!)),
      touch: method("file_name", (args) => this.touch(args.file_name!)),
      echo: method("content, file_name=", (args) => this.echo(args.content!, arg(args, "file_name", null))),
      cat: method("file_name", (args) => this.cat(args.file_name!)),
      find: method("path=, name=", (args) => this.find(arg(args, "path", "."), arg(args, "name", null))),
      wc: method("file_name, mode=", (args) => this.wc(args.file_name!, arg(args, "mode", "l"))),
      sort: method("file_name", (args) => this.sort(args.file_name!)),
      grep: method("file_name, pattern", (args) => this.grep(args.file_name!, args.pattern!)),
      du: method("human_readable=", (args) => this.du(arg(args, "human_readable", false))),
      tail: method("file_name, lines=", (args) => this.tail(args.file_name!, arg(args, "lines", 10))),
      diff: method("file_name1, file_name2", (args) => this.diff(args.file_name1!, args.file_name2!)),
      mv: method("source, destination", (args) => this.mv(args.source!, args.destination!)),
      rm: method("file_name", (args) => this.rm(args.file_name!)),
      rmdir: method("dir_name", (args) => this.rmdir(args.dir_name!)),
      cp: method("source, destination", (args: MethodArgs) => this.cp(args.source!, args.destination!)),
    };
  }

  loadScenario(config: PyDict, longContext: boolean): void {
    this.longContext = longContext;
    this.root = new FsDirectory("/", null);
    if (Object.hasOwn(config, "root")) {
      const rootConfig = config.root as PyDict;
      const rootName = Object.keys(rootConfig)[0];
      if (rootName === undefined) throw new BfclCallError("list index out of range");
      const rootEntry = rootConfig[rootName] as PyDict;
      this.root = this.loadDirectory(rootEntry.contents as PyDict, new FsDirectory(rootName, null));
    }
    this.currentDir = this.root;
  }

  private loadDirectory(entries: PyDict, directory: FsDirectory): FsDirectory {
    let bottommost = true;
    const constants = this.longContext ? longContextFileConstants() : undefined;
    for (const [name, entry] of Object.entries(entries)) {
      const data = entry as PyDict;
      if (data.type === "directory") {
        bottommost = false;
        directory.contents.set(name, this.loadDirectory(data.contents as PyDict, new FsDirectory(name, directory)));
      } else if (data.type === "file") {
        let content = data.content as PyValue;
        if (constants && !constants.tailUsed.has(name)) content = (content as string) + constants.contentExtension;
        directory.contents.set(name, new FsFile(name, content));
      }
    }
    if (bottommost && constants) for (const name of constants.populate) directory.addFile(name);
    return directory;
  }

  state(): PyDict {
    return { long_context: this.longContext, root: serialiseNode(this.root, new Set()) };
  }

  private pwd(): PyValue {
    const path: string[] = [];
    for (let dir: FsDirectory | null = this.currentDir; dir !== null; dir = dir.parent) path.push(dir.name);
    return { current_working_directory: "/" + path.reverse().join("/") };
  }

  private ls(showHidden: PyValue): PyValue {
    let contents = [...this.currentDir.contents.keys()];
    if (!pyTruthy(showHidden)) contents = contents.filter((item) => !item.startsWith("."));
    return { current_directory_content: contents };
  }

  private cd(folder: PyValue): PyValue {
    if (folder === "..") {
      if (this.currentDir.parent) {
        this.currentDir = this.currentDir.parent;
      } else if (this.root === this.currentDir) {
        return { error: "Cuurent directory is already the root. Cannot go back." };
      } else {
        return { error: "cd: ..: No such directory" };
      }
      return {};
    }
    const target = this.navigateToDirectory(folder);
    if (target === undefined) {
      return { error: `cd: ${pyStr(folder)}: No such directory. You cannot use path to change directory.` };
    }
    this.currentDir = target;
    return { current_working_directory: target.name };
  }

  /** `_navigate_to_directory`; undefined where Python returns its error dict. */
  private navigateToDirectory(path: PyValue): FsDirectory | undefined {
    if (path === null || path === ".") return this.currentDir;
    if (path === "/") return this.root;
    const text = requireStr(path, "strip");
    const names = text.replace(/^\/+|\/+$/g, "").split("/");
    let dir = text.startsWith("/") ? this.root : this.currentDir;
    for (const name of names) {
      const next = dir.getItem(name);
      if (!(next instanceof FsDirectory)) return undefined;
      dir = next;
    }
    return dir;
  }

  private mkdir(dirName: PyValue): PyValue {
    const name = nameArg(dirName);
    if (hasInvalidChar(name)) return { error: `mkdir: cannot create directory '${name}': Invalid character` };
    if (this.currentDir.contents.has(name)) return { error: `mkdir: cannot create directory '${name}': File exists` };
    this.currentDir.addDirectory(name);
    return null;
  }

  private touch(fileName: PyValue): PyValue {
    const name = nameArg(fileName);
    if (hasInvalidChar(name)) return { error: `touch: cannot touch '${name}': Invalid character` };
    if (this.currentDir.contents.has(name)) return { error: `touch: cannot touch '${name}': File exists` };
    this.currentDir.addFile(name);
    return null;
  }

  private echo(content: PyValue, fileName: PyValue): PyValue {
    if (fileName === null) return { terminal_output: content };
    const name = nameArg(fileName);
    if (hasInvalidChar(name)) return { error: `echo: cannot touch '${name}': Invalid character` };
    if (name === "") return { terminal_output: content };
    const existing = this.currentDir.contents.has(name) ? this.currentDir.getItem(name) : undefined;
    if (existing instanceof FsDirectory) throw new BfclCallError("'Directory' object has no attribute '_write'");
    if (existing) existing.content = content;
    else this.currentDir.addFile(name, content);
    return null;
  }

  private cat(fileName: PyValue): PyValue {
    const name = nameArg(fileName);
    if (hasInvalidChar(name)) return { error: `cat: '${name}': Invalid character` };
    if (!this.currentDir.contents.has(name)) return { error: `cat: ${name}: No such file or directory` };
    const item = this.currentDir.getItem(name);
    if (item instanceof FsFile) return { file_content: item.content };
    return { error: `cat: ${name}: Is a directory` };
  }

  private find(path: PyValue, name: PyValue): PyValue {
    const matches: string[] = [];
    const base = requireStr(path, "rstrip").replace(/\/+$/, "");
    if (name !== null && typeof name !== "string" && this.currentDir.contents.size > 0) {
      throw new BfclCallError(`'in <string>' requires string as left operand, not ${describePyType(name)}`);
    }
    const search = (directory: FsDirectory, basePath: string, depth: number): void => {
      if (depth > MAX_DEPTH) throw recursionError();
      for (const [itemName, item] of directory.contents) {
        const itemPath = `${basePath}/${itemName}`;
        if (name === null || itemName.includes(name as string)) matches.push(itemPath);
        if (item instanceof FsDirectory) search(item, itemPath, depth + 1);
      }
    };
    search(this.currentDir, base, 0);
    return { matches };
  }

  /** The file named `fileName` in the current directory, if it is a file. */
  private localFile(fileName: PyValue): FsFile | undefined {
    if (!has(this.currentDir, fileName)) return undefined;
    const item = this.currentDir.getItem(fileName);
    return item instanceof FsFile ? item : undefined;
  }

  private wc(fileName: PyValue, mode: PyValue): PyValue {
    if (mode !== "l" && mode !== "w" && mode !== "c") return { error: `wc: invalid mode '${pyStr(mode)}'` };
    const file = this.localFile(fileName);
    if (file) {
      if (mode === "l") return { count: pySplitLines(readText(file, "splitlines")).length, type: "lines" };
      if (mode === "w") return { count: pySplitWhitespace(readText(file, "split")).length, type: "words" };
      const content = file.content;
      if (typeof content === "string") return { count: pyLength(content), type: "characters" };
      if (Array.isArray(content)) return { count: content.length, type: "characters" };
      throw new BfclCallError(`object of type '${describePyType(content)}' has no len()`);
    }
    return { error: `wc: ${pyStr(fileName)}: No such file or directory` };
  }

  private sort(fileName: PyValue): PyValue {
    const file = this.localFile(fileName);
    if (file) return { sorted_content: pySplitLines(readText(file, "splitlines")).sort(comparePyStrings).join("\n") };
    return { error: `sort: ${pyStr(fileName)}: No such file or directory` };
  }

  private grep(fileName: PyValue, pattern: PyValue): PyValue {
    const file = this.localFile(fileName);
    if (file) {
      const lines = pySplitLines(readText(file, "splitlines"));
      if (typeof pattern !== "string") {
        if (lines.length === 0) return { matching_lines: [] };
        throw new BfclCallError(`'in <string>' requires string as left operand, not ${describePyType(pattern)}`);
      }
      return { matching_lines: lines.filter((line) => line.includes(pattern)) };
    }
    return { error: `grep: ${pyStr(fileName)}: No such file or directory` };
  }

  private du(humanReadable: PyValue): PyValue {
    const size = (item: FsNode, depth: number): number => {
      if (item instanceof FsFile) return pyUtf8Length(readText(item, "encode"));
      if (depth > MAX_DEPTH) throw recursionError();
      let total = 0;
      for (const child of item.contents.values()) total += size(child, depth + 1);
      return total;
    };
    let total = size(this.currentDir, 0);
    if (!pyTruthy(humanReadable)) return { disk_usage: `${total} bytes` };
    for (const unit of ["B", "KB", "MB", "GB", "TB"]) {
      if (total < 1024) return { disk_usage: `${formatFixed2(total)} ${unit}` };
      total /= 1024;
    }
    return { disk_usage: `${formatFixed2(total)} PB` };
  }

  private tail(fileName: PyValue, lines: PyValue): PyValue {
    const file = this.localFile(fileName);
    if (file) {
      const content = pySplitLines(readText(file, "splitlines"));
      // `if lines > len(content): lines = len(content)`, then `content[-lines:]`, which needs an int.
      if (!isPyNumeric(lines)) {
        throw new BfclCallError(`'>' not supported between instances of '${describePyType(lines)}' and 'int'`);
      }
      let count = typeof lines === "boolean" ? Number(lines) : num(lines);
      if (count > content.length) count = content.length;
      else if (isFloatValue(lines)) {
        throw new BfclCallError("slice indices must be integers or None or have an __index__ method");
      }
      // content[-count:], with Python's slice clamping (count 0 keeps everything).
      const start = -count;
      const from = start < 0 ? Math.max(content.length + start, 0) : Math.min(start, content.length);
      return { last_lines: content.slice(from).join("\n") };
    }
    return { error: `tail: ${pyStr(fileName)}: No such file or directory` };
  }

  private diff(fileName1: PyValue, fileName2: PyValue): PyValue {
    if (has(this.currentDir, fileName1) && has(this.currentDir, fileName2)) {
      const file1 = this.currentDir.getItem(fileName1);
      const file2 = this.currentDir.getItem(fileName2);
      if (file1 instanceof FsFile && file2 instanceof FsFile) {
        const lines1 = pySplitLines(readText(file1, "splitlines"));
        const lines2 = pySplitLines(readText(file2, "splitlines"));
        const diffLines: string[] = [];
        for (let i = 0; i < Math.min(lines1.length, lines2.length); i++) {
          if (lines1[i] !== lines2[i]) diffLines.push(`- ${lines1[i]}\n+ ${lines2[i]}`);
        }
        return { diff_lines: diffLines.join("\n") };
      }
    }
    return { error: `diff: ${pyStr(fileName1)} or ${pyStr(fileName2)}: No such file or directory` };
  }

  private mv(source: PyValue, destination: PyValue): PyValue {
    if (!has(this.currentDir, source)) return { error: `mv: cannot move '${pyStr(source)}': No such file or directory` };
    const item = this.currentDir.getItem(source)!;
    if (containsSlash(destination)) {
      return { error: "mv: no path allowed in destination. Only file name and folder name is supported for this operation." };
    }
    if (has(this.currentDir, destination)) {
      const target = this.currentDir.getItem(destination)!;
      if (!(target instanceof FsDirectory)) return { error: `mv: cannot move '${source}' to '${destination}': Not a directory` };
      if (target.contents.has(source)) {
        return { error: `mv: cannot move '${source}' to '${destination}/${source}': File exists` };
      }
      this.currentDir.contents.delete(source);
      if (item instanceof FsFile) target.addFile(source, item.content);
      else target.addDirectory(source).contents = item.contents;
      return { result: `'${source}' moved to '${destination}/${source}'` };
    }
    const name = destination as unknown as string; // `destination in contents` was False, so it is a str
    this.currentDir.contents.delete(source);
    if (item instanceof FsFile) this.currentDir.addFile(name, item.content);
    else this.currentDir.addDirectory(name).contents = item.contents;
    return { result: `'${source}' moved to '${name}'` };
  }

  private rm(fileName: PyValue): PyValue {
    if (!has(this.currentDir, fileName)) return { error: `rm: cannot remove '${pyStr(fileName)}': No such file or directory` };
    this.currentDir.contents.delete(fileName);
    return { result: `'${fileName}' removed` };
  }

  private rmdir(dirName: PyValue): PyValue {
    if (!has(this.currentDir, dirName)) {
      return { error: `rmdir: cannot remove '${pyStr(dirName)}': No such file or directory` };
    }
    const item = this.currentDir.getItem(dirName);
    if (!(item instanceof FsDirectory)) return { error: `rmdir: cannot remove '${dirName}': Not a directory` };
    if (item.contents.size > 0) return { error: `rmdir: failed to remove '${dirName}': Directory not empty` };
    this.currentDir.contents.delete(dirName);
    return { result: `'${dirName}' removed` };
  }

  private cp(source: PyValue, destination: PyValue): PyValue {
    if (!has(this.currentDir, source)) return { error: `cp: cannot copy '${pyStr(source)}': No such file or directory` };
    const item = this.currentDir.getItem(source)!;
    if (containsSlash(destination)) {
      return { error: "cp: don't allow path in destination. Only file name and folder name is supported for this operation." };
    }
    if (has(this.currentDir, destination)) {
      const target = this.currentDir.getItem(destination)!;
      if (!(target instanceof FsDirectory)) return { error: `cp: cannot copy '${source}' to '${destination}': Not a directory` };
      if (target.contents.has(`${destination}/${source}`)) {
        return { error: `cp: cannot copy '${source}' to '${destination}/${source}': File exists` };
      }
      if (item instanceof FsFile) target.addFile(source, item.content);
      else {
        const copy = target.addDirectory(source);
        copy.contents = new Map(item.contents);
      }
      return { result: `'${source}' copied to '${destination}/${source}'` };
    }
    const name = destination as unknown as string; // `destination in contents` was False, so it is a str
    if (item instanceof FsFile) this.currentDir.addFile(name, item.content);
    else {
      const copy = this.currentDir.addDirectory(name);
      copy.contents = new Map(item.contents);
    }
    return { result: `'${source}' copied to '${name}'` };
  }
}

export const GorillaFileSystem: BfclApiClass = {
  className: "GorillaFileSystem",
  docFile: "gorilla_file_system",
  create: () => new GorillaFileSystemInstance(),
};
