// BFCL's TicketAPI (support tickets), written from BFCL's Python backend: the same checks in the same
// order, the same result dicts and error texts. Long-context mode does not change it.
import { pyStr } from "../python/repr.js";
import { describePyType, isPyDict, type PyDict, type PyValue } from "../python/value.js";
import { arg, method, type MethodArgs } from "./method-table.js";
import { getItem, pyAdd, pyCompare, pyEquals, pyIterate, pyTruthy, requireStr } from "./python-ops.js";
import { BfclCallError, type BfclApi, type BfclApiClass, type BfclMethod } from "./types.js";

const EDITABLE_FIELDS = ["title", "description", "status", "priority"];

class TicketApi implements BfclApi {
  private ticketQueue: PyValue = [];
  private ticketCounter: PyValue = 1;
  private currentUser: PyValue = null;

  readonly methods: Record<string, BfclMethod> = {
    create_ticket: method("title, description=, priority=", (a) => this.createTicket(a)),
    get_ticket: method("ticket_id", (a) => {
      const ticket = this.findTicket(a.ticket_id);
      return ticket ?? { error: `Ticket with ID ${pyStr(a.ticket_id)} not found.` };
    }),
    close_ticket: method("ticket_id", (a) => this.closeTicket(a.ticket_id)),
    resolve_ticket: method("ticket_id, resolution", (a) => this.resolveTicket(a.ticket_id, a.resolution)),
    edit_ticket: method("ticket_id, updates", (a) => this.editTicket(a.ticket_id, a.updates)),
    ticket_login: method("username, password", (a) => {
      if (pyTruthy(a.username) && pyTruthy(a.password)) {
        this.currentUser = a.username;
        return { success: true };
      }
      return { success: false };
    }),
    ticket_get_login_status: method("", () => ({ username: pyTruthy(this.currentUser) })),
    logout: method("", () => {
      if (!pyTruthy(this.currentUser)) return { success: false };
      this.currentUser = null;
      return { success: true };
    }),
    get_user_tickets: method("status=", (a) => this.getUserTickets(arg(a, "status", null))),
  };

  loadScenario(config: PyDict): void {
    const scenario = config;
    this.ticketQueue = Object.hasOwn(scenario, "ticket_queue") ? scenario.ticket_queue : [];
    this.ticketCounter = Object.hasOwn(scenario, "ticket_counter") ? scenario.ticket_counter : 1;
    this.currentUser = Object.hasOwn(scenario, "current_user") ? scenario.current_user : null;
  }

  state(): PyDict {
    return { ticket_queue: this.ticketQueue, ticket_counter: this.ticketCounter, current_user: this.currentUser };
  }

  private findTicket(ticketId: PyValue): PyDict | undefined {
    for (const ticket of pyIterate(this.ticketQueue)) {
      if (pyEquals(getItem(ticket, "id"), ticketId)) return ticket as PyDict;
    }
    return undefined;
  }

  private createTicket(a: MethodArgs): PyValue {
    const priority = arg(a, "priority", 1);
    if (!pyTruthy(this.currentUser)) return { error: "User not authenticated. Please log in to create a ticket." };
    if (pyCompare(priority, "<", 1) || pyCompare(priority, ">", 5)) {
      return { error: "Invalid priority. Priority must be between 1 and 5." };
    }
    const ticket: PyDict = {
      id: this.ticketCounter,
      title: a.title,
      description: arg(a, "description", ""),
      status: "Open",
      priority,
      created_by: this.currentUser,
    };
    appendTo(this.ticketQueue, ticket);
    this.ticketCounter = pyAdd(this.ticketCounter, 1, "+=");
    return ticket;
  }

  private closeTicket(ticketId: PyValue): PyValue {
    const ticket = this.findTicket(ticketId);
    if (!ticket) return { error: `Ticket with ID ${pyStr(ticketId)} not found.` };
    if (pyEquals(getItem(ticket, "status"), "Closed")) return { error: `Ticket with ID ${pyStr(ticketId)} is already closed.` };
    ticket.status = "Closed";
    return { status: `Ticket ${pyStr(ticketId)} has been closed successfully.` };
  }

  private resolveTicket(ticketId: PyValue, resolution: PyValue): PyValue {
    const ticket = this.findTicket(ticketId);
    if (!ticket) return { error: `Ticket with ID ${pyStr(ticketId)} not found.` };
    if (pyEquals(getItem(ticket, "status"), "Resolved")) {
      return { error: `Ticket with ID ${pyStr(ticketId)} is already resolved.` };
    }
    ticket.status = "Resolved";
    ticket.resolution = resolution;
    return { status: `Ticket ${pyStr(ticketId)} has been resolved successfully.` };
  }

  private editTicket(ticketId: PyValue, updates: PyValue): PyValue {
    const ticket = this.findTicket(ticketId);
    if (!ticket) return { error: `Ticket with ID ${pyStr(ticketId)} not found.` };
    if (!isPyDict(updates)) throw new BfclCallError(`'${describePyType(updates)}' object has no attribute 'keys'`);
    const keys = Object.keys(updates);
    // Python joins a set here, whose order varies with the hash seed; we keep the order of the call.
    const invalid = keys.filter((key) => !EDITABLE_FIELDS.includes(key));
    if (invalid.length > 0) return { error: `Invalid fields for update: ${invalid.join(", ")}` };
    for (const key of keys) {
      const value = getItem(updates, key);
      if (value !== null) ticket[key] = value;
    }
    return { status: `Ticket ${pyStr(ticketId)} has been updated successfully.` };
  }

  private getUserTickets(status: PyValue): PyValue {
    if (!pyTruthy(this.currentUser)) return [{ error: "User not authenticated. Please log in to view tickets." }];
    let tickets = pyIterate(this.ticketQueue).filter((ticket) => pyEquals(getItem(ticket, "created_by"), this.currentUser));
    if (pyTruthy(status)) {
      // Python lowers both sides per ticket, so a bad status only fails when there is a ticket to compare.
      tickets = tickets.filter(
        (ticket) => requireStr(getItem(ticket, "status"), "lower").toLowerCase() === requireStr(status, "lower").toLowerCase(),
      );
    }
    return tickets;
  }
}

function appendTo(list: PyValue, item: PyValue): void {
  if (!Array.isArray(list)) throw new BfclCallError(`'${describePyType(list)}' object has no attribute 'append'`);
  list.push(item);
}

export const TicketAPI: BfclApiClass = {
  className: "TicketAPI",
  docFile: "ticket_api",
  create: () => new TicketApi(),
};
