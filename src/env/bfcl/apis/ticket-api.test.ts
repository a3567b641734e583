import assert from "node:assert/strict";
import { test } from "node:test";
import { BfclExecution } from "../executor.js";
import type { PyDict } from "../python/value.js";

function session(config: PyDict = {}) {
  const execution = new BfclExecution({ id: "unit_0", involved_classes: ["TicketAPI"], initial_config: { TicketAPI: config } });
  return { call: (text: string) => execution.executeText(text), state: () => execution.state().TicketAPI! };
}

test("TicketAPI: creating a ticket needs a login, and priority must be 1..5", () => {
  const api = session();
  assert.equal(api.call("create_ticket(title='Printer')"), '{"error": "User not authenticated. Please log in to create a ticket."}');
  assert.equal(api.call("ticket_login(username='ana', password='')"), '{"success": false}');
  assert.equal(api.call("ticket_login(username='ana', password='pw')"), '{"success": true}');
  assert.equal(api.call("create_ticket(title='Printer', priority=6)"), '{"error": "Invalid priority. Priority must be between 1 and 5."}');
  assert.equal(
    api.call("create_ticket(title='Printer', priority='high')"),
    "Error during execution: '<' not supported between instances of 'str' and 'int'",
  );
  // Positional arguments bind in the Python signature's order (title, description, priority).
  assert.equal(
    api.call("create_ticket('Printer', 'Paper jam', 3)"),
    '{"id": 1, "title": "Printer", "description": "Paper jam", "status": "Open", "priority": 3, "created_by": "ana"}',
  );
  assert.deepEqual(api.state(), {
    ticket_queue: [{ id: 1, title: "Printer", description: "Paper jam", status: "Open", priority: 3, created_by: "ana" }],
    ticket_counter: 2,
    current_user: "ana",
  });
});

test("TicketAPI: close, resolve and edit report their errors as dicts", () => {
  const api = session({
    current_user: "bo",
    ticket_counter: 8,
    ticket_queue: [{ id: 7, title: "VPN", description: "down", status: "Open", priority: 2, created_by: "bo" }],
  });
  assert.equal(api.call("get_ticket(ticket_id=9)"), '{"error": "Ticket with ID 9 not found."}');
  // Python's == finds ticket 7 for 7.0 too; the message prints the argument as given.
  assert.equal(api.call("close_ticket(ticket_id=7.0)"), '{"status": "Ticket 7.0 has been closed successfully."}');
  assert.equal(api.call("close_ticket(ticket_id=7)"), '{"error": "Ticket with ID 7 is already closed."}');
  assert.equal(api.call("edit_ticket(ticket_id=7, updates={'owner': 'x'})"), '{"error": "Invalid fields for update: owner"}');
  assert.equal(
    api.call("edit_ticket(ticket_id=7, updates={'priority': 4, 'title': None})"),
    '{"status": "Ticket 7 has been updated successfully."}',
  );
  assert.equal(api.call("resolve_ticket(ticket_id=7, resolution='Rebooted')"), '{"status": "Ticket 7 has been resolved successfully."}');
  assert.equal(api.call("resolve_ticket(ticket_id=7, resolution='Again')"), '{"error": "Ticket with ID 7 is already resolved."}');
  assert.equal(
    api.call("get_user_tickets(status='RESOLVED')"),
    "[{'id': 7, 'title': 'VPN', 'description': 'down', 'status': 'Resolved', 'priority': 4, 'created_by': 'bo', 'resolution': 'Rebooted'}]",
  );
  assert.equal(api.call("get_user_tickets(status='Open')"), "[]");
  assert.equal(api.call("ticket_get_login_status()"), '{"username": true}');
  assert.equal(api.call("logout()"), '{"success": true}');
  assert.equal(api.call("logout()"), '{"success": false}');
  assert.equal(api.call("get_user_tickets()"), "[{'error': 'User not authenticated. Please log in to view tickets.'}]");
});
