// BFCL's MessageAPI (message_api.py at the v3 data commit): a workspace of users and one shared inbox, where each
// message is a one-entry dict {receiver_id: text}. Message ids come from the class's own `random.Random(200191)`.
//
// Upstream details kept on purpose: `send_message` answers `message_id` with the `{"new_id": n}` dict itself,
// `delete_message` answers the receiver id as `message_id` and removes the first message *equal* to the last one
// sent to that receiver, `add_contact` counts the new user before it checks the id, and nothing checks who sent
// a message (every method looks at the whole inbox).
import { PyRandom } from "../python/random.js";
import { pyStr } from "../python/repr.js";
import { isPyDict, type PyDict, type PyValue } from "../python/value.js";
import { method } from "./method-table.js";
import { dictKey, pyAdd, pyContains, pyEquals, pyTruthy, requireHashable, requireStr } from "./python-ops.js";
import { BfclCallError, type BfclApi, type BfclApiClass, type BfclMethod } from "./types.js";

const DEFAULT_SEED = 200191;

type Dict = PyDict | Map<number | string, PyValue>;

/** `list(d.items())[0]` of an inbox message. */
function firstItem(message: PyValue): [PyValue, PyValue] {
  if (message instanceof Map) {
    for (const entry of message) return entry;
  } else if (isPyDict(message)) {
    for (const key in message) return [key, message[key]!];
  } else {
    throw new BfclCallError(`'${typeof message === "string" ? "str" : "list"}' object has no attribute 'items'`);
  }
  throw new BfclCallError("list index out of range");
}

function dictValues(dict: Dict): PyValue[] {
  return dict instanceof Map ? [...dict.values()] : Object.values(dict);
}

/** `key in d` for a dict. */
function hasKey(dict: Dict, key: PyValue): boolean {
  return pyContains(dict, key);
}

function getKey(dict: Dict, key: PyValue): PyValue | undefined {
  if (dict instanceof Map) return key === null ? undefined : dict.get(dictKey(key));
  return typeof key === "string" && Object.hasOwn(dict, key) ? dict[key] : undefined;
}

function setKey(dict: Dict, key: PyValue, value: PyValue): void {
  requireHashable(key);
  if (dict instanceof Map) dict.set(dictKey(key), value);
  else if (typeof key === "string") Object.defineProperty(dict, key, { value, enumerable: true, writable: true, configurable: true });
  else throw new BfclCallError("dict keys other than str are not supported here");
}

/** str.zfill(width). */
function zfill(text: string, width: number): string {
  if (text.length >= width) return text;
  const sign = text[0] === "+" || text[0] === "-" ? text[0] : "";
  return sign + "0".repeat(width - text.length) + text.slice(sign.length);
}

class MessageApiInstance implements BfclApi {
  private random = new PyRandom(DEFAULT_SEED);
  private generatedIds: PyValue = new Set<number | string>();
  private userCount: PyValue = 4;
  private userMap: Dict = new Map();
  private inbox: PyValue[] = [];
  private messageCount: PyValue = 3;
  private currentUser: PyValue = null;

  readonly methods: Record<string, BfclMethod> = {
    list_users: method("", () => ({ user_list: this.userMap instanceof Map ? [...this.userMap.keys()] : Object.keys(this.userMap) })),
    get_user_id: method("user", (a) => this.getUserId(a.user!)),
    message_login: method("user_id", (a) => this.login(a.user_id!)),
    message_get_login_status: method("", () => ({ login_status: pyTruthy(this.currentUser) })),
    send_message: method("receiver_id, message", (a) => this.sendMessage(a.receiver_id!, a.message!)),
    delete_message: method("receiver_id", (a) => this.deleteMessage(a.receiver_id!)),
    view_messages_sent: method("", () => this.viewMessagesSent()),
    add_contact: method("user_name", (a) => this.addContact(a.user_name!)),
    search_messages: method("keyword", (a) => this.searchMessages(a.keyword!)),
    get_message_stats: method("", () => this.getMessageStats()),
  };

  constructor() {
    this.loadScenario({}, false);
  }

  loadScenario(config: PyDict, _longContext: boolean): void {
    const get = (key: string, fallback: () => PyValue): PyValue => (Object.hasOwn(config, key) ? config[key]! : fallback());
    const seed = get("random_seed", () => DEFAULT_SEED);
    if (typeof seed !== "number" || !Number.isInteger(seed)) throw new BfclCallError("random_seed must be an int");
    this.random = new PyRandom(seed);
    this.generatedIds = get("generated_ids", () => new Set<number | string>());
    this.userCount = get("user_count", () => 4);
    const userMap = get("user_map", () => ({ Alice: "USR001", Bob: "USR002", Catherine: "USR003", Daniel: "USR004" }));
    // A Map keeps insertion order for every key (a JS object would put "123" first).
    this.userMap = isPyDict(userMap) ? new Map(Object.entries(userMap)) : (userMap as Dict);
    const inbox = get("inbox", (): PyValue => [
      { USR002: "My name is Alice. I want to connect." },
      { USR003: "Could you upload the file?" },
      { USR004: "Could you upload the file?" },
    ]);
    if (!Array.isArray(inbox)) throw new BfclCallError("inbox must be a list");
    this.inbox = inbox;
    this.messageCount = get("message_count", () => 3);
    this.currentUser = get("current_user", () => null);
  }

  state(): PyDict {
    return {
      generated_ids: this.generatedIds,
      user_count: this.userCount,
      user_map: this.userMap,
      inbox: this.inbox,
      message_count: this.messageCount,
      current_user: this.currentUser,
    };
  }

  private getUserId(user: PyValue): PyValue {
    if (!hasKey(this.userMap, user)) return { error: `User '${pyStr(user)}' not found in the workspace.` };
    return { user_id: getKey(this.userMap, user) ?? null };
  }

  private login(userId: PyValue): PyValue {
    if (!dictValues(this.userMap).some((id) => pyEquals(id, userId))) {
      return { login_status: false, message: `User ID '${pyStr(userId)}' not found.` };
    }
    this.currentUser = userId;
    return { login_status: true, message: `User '${pyStr(userId)}' logged in successfully.` };
  }

  /** `new_id in self.generated_ids`: a set unless the config gave a list. */
  private isGenerated(id: number): boolean {
    return this.generatedIds instanceof Set ? this.generatedIds.has(id) : pyContains(this.generatedIds, id);
  }

  /** `_generate_id`: randint(10000, 99999), drawn again while already used. */
  private generateId(): PyValue {
    let newId = this.random.randint(10000, 99999);
    while (this.isGenerated(newId)) newId = this.random.randint(10000, 99999);
    if (!(this.generatedIds instanceof Set)) {
      throw new BfclCallError(`'${Array.isArray(this.generatedIds) ? "list" : "dict"}' object has no attribute 'add'`);
    }
    this.generatedIds.add(newId);
    return { new_id: newId };
  }

  private sendMessage(receiverId: PyValue, message: PyValue): PyValue {
    if (!pyTruthy(this.currentUser)) return { error: "No user is currently logged in." };
    if (!dictValues(this.userMap).some((id) => pyEquals(id, receiverId))) {
      return { error: `Receiver ID '${pyStr(receiverId)}' not found.` };
    }
    const messageId = this.generateId();
    const entry: PyDict = {};
    setKey(entry, receiverId, message);
    this.inbox.push(entry);
    this.messageCount = pyAdd(this.messageCount, 1, "+=");
    return { sent_status: true, message_id: messageId, message: `Message sent to '${pyStr(receiverId)}' successfully.` };
  }

  private deleteMessage(receiverId: PyValue): PyValue {
    if (!pyTruthy(this.currentUser)) return { error: "No user is currently logged in." };
    for (let i = this.inbox.length - 1; i >= 0; i--) {
      const message = this.inbox[i]!;
      const [receiver] = firstItem(message);
      if (pyEquals(receiver, receiverId)) {
        // list.remove drops the first element equal to it, which may be an earlier identical message.
        this.inbox.splice(this.inbox.findIndex((other) => pyEquals(other, message)), 1);
        return {
          deleted_status: true,
          message_id: receiver,
          message: `Receiver ${pyStr(receiverId)}'s first message deleted successfully.`,
        };
      }
    }
    return { error: `Receiver ID ${pyStr(receiverId)} not found.` };
  }

  private viewMessagesSent(): PyValue {
    if (!pyTruthy(this.currentUser)) return { error: "No user is currently logged in." };
    const sent = new Map<number | string, PyValue>();
    for (const message of this.inbox) {
      const [receiver, content] = firstItem(message);
      requireHashable(receiver);
      const key = dictKey(receiver);
      const list = sent.get(key);
      if (list === undefined) sent.set(key, [content]);
      else (list as PyValue[]).push(content);
    }
    return { messages: sent };
  }

  private addContact(userName: PyValue): PyValue {
    if (hasKey(this.userMap, userName)) return { error: `User name '${pyStr(userName)}' already exists.` };
    this.userCount = pyAdd(this.userCount, 1, "+=");
    const userId = `USR${zfill(pyStr(this.userCount), 3)}`;
    if (dictValues(this.userMap).some((id) => pyEquals(id, userId))) return { error: `User ID '${userId}' already exists.` };
    setKey(this.userMap, userName, userId);
    return { added_status: true, user_id: userId, message: `Contact '${pyStr(userName)}' added successfully.` };
  }

  private searchMessages(keyword: PyValue): PyValue {
    if (!pyTruthy(this.currentUser)) return { error: "No user is currently logged in." };
    const needle = requireStr(keyword, "lower").toLowerCase();
    const results: PyValue[] = [];
    for (const message of this.inbox) {
      const [receiverId, content] = firstItem(message);
      if (requireStr(content, "lower").toLowerCase().includes(needle)) results.push({ receiver_id: receiverId, message: content });
    }
    return { results };
  }

  private getMessageStats(): PyValue {
    if (!pyTruthy(this.currentUser)) return { error: "No user is currently logged in." };
    const contacts = new Set<number | string>();
    let received = 0;
    for (const message of this.inbox) {
      const [receiverId] = firstItem(message);
      received += 1;
      requireHashable(receiverId);
      contacts.add(receiverId === null ? "\u0000None" : dictKey(receiverId));
    }
    return { stats: { received_count: received, total_contacts: contacts.size } };
  }
}

export const MessageAPI: BfclApiClass = {
  className: "MessageAPI",
  docFile: "message_api",
  create: () => new MessageApiInstance(),
};
