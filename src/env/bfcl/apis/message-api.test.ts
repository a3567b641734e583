// MessageAPI against BFCL's Python class: the expected strings were printed by the upstream message_api.py.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BfclExecution } from "../executor.js";
import type { PyDict } from "../python/value.js";

function messages(config: PyDict = {}): BfclExecution {
  return new BfclExecution({ id: "test_0", involved_classes: ["MessageAPI"], initial_config: { MessageAPI: config } });
}

const SESSION: [string, string][] = [
  ["send_message(receiver_id='USR002', message='hi')", '{"error": "No user is currently logged in."}'],
  ["message_login(user_id='USR009')", `{"login_status": false, "message": "User ID 'USR009' not found."}`],
  ["message_login(user_id='USR001')", `{"login_status": true, "message": "User 'USR001' logged in successfully."}`],
  ["message_get_login_status()", '{"login_status": true}'],
  ["send_message(receiver_id='USR009', message='hi')", `{"error": "Receiver ID 'USR009' not found."}`],
  // Ids come from random.Random(200191).randint(10000, 99999); message_id is the {"new_id": n} dict itself.
  ["send_message(receiver_id='USR003', message='Could you upload the file?')", `{"sent_status": true, "message_id": {"new_id": 67410}, "message": "Message sent to 'USR003' successfully."}`],
  ["send_message('USR002', 'second')", `{"sent_status": true, "message_id": {"new_id": 41772}, "message": "Message sent to 'USR002' successfully."}`],
  ["view_messages_sent()", '{"messages": {"USR002": ["My name is Alice. I want to connect.", "second"], "USR003": ["Could you upload the file?", "Could you upload the file?"], "USR004": ["Could you upload the file?"]}}'],
  // list.remove drops the first message equal to the last one sent to USR003: the configured one.
  ["delete_message(receiver_id='USR003')", `{"deleted_status": true, "message_id": "USR003", "message": "Receiver USR003's first message deleted successfully."}`],
  ["add_contact(user_name='Eve')", `{"added_status": true, "user_id": "USR005", "message": "Contact 'Eve' added successfully."}`],
  ["add_contact(user_name='Eve')", `{"error": "User name 'Eve' already exists."}`],
  ["list_users()", '{"user_list": ["Alice", "Bob", "Catherine", "Daniel", "Eve"]}'],
  ["get_user_id(user='Eve')", '{"user_id": "USR005"}'],
  ["get_user_id(user='Nobody')", `{"error": "User 'Nobody' not found in the workspace."}`],
  ["search_messages(keyword='UPLOAD')", '{"results": [{"receiver_id": "USR004", "message": "Could you upload the file?"}, {"receiver_id": "USR003", "message": "Could you upload the file?"}]}'],
  ["get_message_stats()", '{"stats": {"received_count": 4, "total_contacts": 3}}'],
];

test("a messaging session prints what BFCL's MessageAPI printed, and leaves the same state", () => {
  const api = messages();
  for (const [call, expected] of SESSION) assert.equal(api.executeText(call), expected, call);
  const state = api.state().MessageAPI!;
  assert.deepEqual(Object.keys(state), ["generated_ids", "user_count", "user_map", "inbox", "message_count", "current_user"]);
  assert.deepEqual([...(state.generated_ids as Set<number>)].sort(), [41772, 67410]);
  assert.equal(state.message_count, 5);
  assert.deepEqual(state.inbox, [
    { USR002: "My name is Alice. I want to connect." },
    { USR004: "Could you upload the file?" },
    { USR003: "Could you upload the file?" },
    { USR002: "second" },
  ]);
});

test("add_contact counts the user before it finds the id taken", () => {
  const api = messages({ user_count: 4, user_map: { Alice: "USR001", Zed: "USR005" } });
  assert.equal(api.executeText("add_contact(user_name='Bob')"), `{"error": "User ID 'USR005' already exists."}`);
  assert.equal(api.executeText("add_contact(user_name='Carl')"), `{"added_status": true, "user_id": "USR006", "message": "Contact 'Carl' added successfully."}`);
  assert.equal(api.state().MessageAPI!.user_count, 6);
});

test("each instance starts from fresh defaults and its own generator", () => {
  const first = messages();
  first.executeText("message_login(user_id='USR001')");
  first.executeText("add_contact(user_name='Eve')");
  const second = messages();
  assert.equal(second.executeText("list_users()"), '{"user_list": ["Alice", "Bob", "Catherine", "Daniel"]}');
  second.executeText("message_login(user_id='USR001')");
  assert.match(second.executeText("send_message(receiver_id='USR002', message='x')"), /"new_id": 67410/);
});
