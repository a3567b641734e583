// GorillaFileSystem's tree: upstream's File and Directory objects, which the methods share by reference (a moved
// directory keeps its contents dict, a copied one shares its children), and their vector serialisation
// ({"__class__": "Directory", "name", "contents"} / {"__class__": "File", "name", "content"}, parents and
// timestamps left out as BFCL's equality leaves them out).
import { describePyType, isPyDict, type PyValue } from "../python/value.js";
import { requireStr } from "./python-ops.js";
import { BfclCallError } from "./types.js";

export class FsFile {
  constructor(
    readonly name: string,
    /** A str, unless a caller wrote something else with echo (Python stores whatever it is given). */
    public content: PyValue,
  ) {}
}

export class FsDirectory {
  contents = new Map<string, FsNode>();

  constructor(
    readonly name: string,
    readonly parent: FsDirectory | null,
  ) {}

  addFile(fileName: string, content: PyValue = ""): void {
    if (this.contents.has(fileName)) {
      throw new BfclCallError(`File '${fileName}' already exists in directory '${this.name}'.`);
    }
    this.contents.set(fileName, new FsFile(fileName, content));
  }

  addDirectory(dirName: string): FsDirectory {
    if (this.contents.has(dirName)) {
      throw new BfclCallError(`Directory '${dirName}' already exists in directory '${this.name}'.`);
    }
    const directory = new FsDirectory(dirName, this);
    this.contents.set(dirName, directory);
    return directory;
  }

  getItem(itemName: string): FsNode | undefined {
    return itemName === "." ? this : this.contents.get(itemName);
  }
}

export type FsNode = FsFile | FsDirectory;

/** The vector form of a node. A directory that contains itself (after `cp` of a directory into itself) would
 * make Python's own comparison recurse forever; here its repeated occurrence is cut to a marker. */
export function serialiseNode(node: FsNode, ancestors: Set<FsDirectory>): PyValue {
  if (node instanceof FsFile) return { __class__: "File", name: node.name, content: node.content };
  if (ancestors.has(node)) return { __class__: "Directory", name: node.name, contents: "<cycle>" };
  ancestors.add(node);
  const contents = new Map<string, PyValue>();
  for (const [name, child] of node.contents) contents.set(name, serialiseNode(child, ancestors));
  ancestors.delete(node);
  return { __class__: "Directory", name: node.name, contents };
}

// ---- how the methods test names against a directory, with the errors Python raises for odd arguments

const INVALID_NAME_CHARS = '|/\\?%*:"><';

/** The name a method was given, which `_validate_file_or_directory_name` tests with `c in name`. */
export function nameArg(name: PyValue): string {
  if (typeof name !== "string") throw notIterable(name);
  return name;
}

/** `not _validate_file_or_directory_name(name)`. */
export function hasInvalidChar(name: string): boolean {
  for (const c of INVALID_NAME_CHARS) if (name.includes(c)) return true;
  return false;
}

export function notIterable(value: PyValue): BfclCallError {
  if (Array.isArray(value) || value instanceof Map || value instanceof Set || isPyDict(value)) {
    return new BfclCallError(`unhashable type: '${describePyType(value)}'`);
  }
  return new BfclCallError(`argument of type '${describePyType(value)}' is not iterable`);
}

/** `key in directory.contents`: only a str can match; an unhashable key raises as in Python. */
export function has(directory: FsDirectory, key: PyValue): key is string {
  if (typeof key === "string") return directory.contents.has(key);
  if (Array.isArray(key) || key instanceof Map || key instanceof Set || isPyDict(key)) {
    throw new BfclCallError(`unhashable type: '${describePyType(key)}'`);
  }
  return false;
}

/** `"/" in destination` (destination may be any value a model passed). */
export function containsSlash(destination: PyValue): boolean {
  if (typeof destination === "string") return destination.includes("/");
  if (Array.isArray(destination)) return destination.includes("/");
  if (destination instanceof Map || destination instanceof Set) return destination.has("/");
  if (isPyDict(destination)) return Object.hasOwn(destination, "/");
  throw new BfclCallError(`argument of type '${describePyType(destination)}' is not iterable`);
}

export function readText(file: FsFile, methodName: string): string {
  return requireStr(file.content, methodName);
}
