import assert from "node:assert/strict";
import { test } from "node:test";
import { BfclExecution } from "../executor.js";
import type { PyDict } from "../python/value.js";

function session(config: PyDict = {}, longContext = false) {
  const execution = new BfclExecution(
    { id: "unit_0", involved_classes: ["TravelAPI"], initial_config: { TravelAPI: config } },
    { longContext },
  );
  return { call: (text: string) => execution.executeText(text), state: () => execution.state().TravelAPI! };
}

const LOGIN = "authenticate_travel('c', 's', 'r', 'read_write', 'Ana', 'Lee')";
const CARD: PyDict = {
  "1432": { card_number: "4111", expiration_date: "12/2030", cardholder_name: "Ana Lee", card_verification_number: 123, balance: 5000 },
};

test("TravelAPI: tokens come from the seeded generator and wrong tokens use them up", () => {
  const api = session({ credit_card_list: CARD });
  assert.equal(api.call("register_credit_card('t', '4222', '01/2030', 'Ana', 1)"), '{"error": "Token not initialized"}');
  // random.Random(141053).randint(100000, 999999) == 251675 (CPython 3.11).
  assert.equal(api.call(LOGIN), '{"expires_in": 2, "access_token": "251675", "token_type": "Bearer", "scope": "read_write"}');
  assert.equal(api.call("get_credit_card_balance('bad', '1432')"), '{"error": "Invalid access token"}');
  assert.equal(api.state().token_expires_in, 1);
  assert.equal(api.call("get_credit_card_balance('251675', '9')"), `{"error": "Card not registered. Here are a list of card_id's: ['1432']"}`);
  assert.equal(api.call("get_credit_card_balance(access_token='251675', card_id='1432')"), '{"card_balance": 5000}');
  assert.equal(api.call("travel_get_login_status()"), '{"status": true}');
  assert.equal(api.call("set_budget_limit('bad', 100)"), '{"error": "Invalid access token"}');
  assert.equal(api.call("set_budget_limit('251675', 100)"), '{"error": "Token expired"}');
  assert.equal(api.call("travel_get_login_status()"), '{"status": false}');
});

test("TravelAPI: an unauthenticated wrong token raises Python's TypeError", () => {
  const api = session();
  assert.equal(
    api.call("retrieve_invoice(access_token='x', booking_id='1')"),
    "Error during execution: unsupported operand type(s) for -=: 'NoneType' and 'int'",
  );
});

test("TravelAPI: flight costs follow the route table, class factor and date parity", () => {
  const api = session();
  // 2024-11-15: digits sum to 16, even, so the fare doubles: 200 * 2 (economy) and 200 * 2 * 2 (business).
  assert.equal(api.call("get_flight_cost('SFO', 'LAX', '2024-11-15', 'economy')"), '{"travel_cost_list": [400.0]}');
  assert.equal(api.call("get_flight_cost('SFO', 'LAX', '2024-11-15', 'business')"), '{"travel_cost_list": [800.0]}');
  assert.equal(api.call("get_flight_cost('SFO', 'LAX', '2024-11-16', 'first')"), '{"travel_cost_list": [1000.0]}');
  assert.equal(api.call("get_flight_cost('LAX', 'SFO', '2024-11-16', 'coach')"), "Error during execution: Invalid travel class. Options are: economy, business, first.");
  assert.equal(api.call("get_flight_cost('SFO', 'HKG', '2024-11-16', 'first')"), "Error during execution: No available route for the given airports.");
  const longApi = session({}, true);
  const costs = JSON.parse(longApi.call("get_flight_cost('SFO', 'LAX', '2024-11-16', 'economy')")).travel_cost_list;
  assert.equal(costs.length, 153);
  assert.deepEqual(costs.slice(0, 3), [200, 500, 400]);
  assert.deepEqual(costs.slice(-2), [100, 220]);
});

test("TravelAPI: booking charges the card, draws ids, and cancelling refunds", () => {
  const api = session({ credit_card_list: structuredClone(CARD), budget_limit: 6000.0 });
  api.call(LOGIN);
  assert.equal(
    api.call("book_flight('251675', '1432', '2024-11-16', 'SFO', 'LAX', 'economy')"),
    '{"booking_status": false, "error": "Balance is less than budget limit"}',
  );
  const open = session({ credit_card_list: structuredClone(CARD) });
  open.call(LOGIN);
  assert.equal(
    open.call("book_flight('251675', '1432', '2024/11/16', 'SFO', 'LAX', 'economy')"),
    '{"booking_status": false, "error": "Invalid date format. Use YYYY-MM-DD."}',
  );
  assert.equal(
    open.call("book_flight('251675', '1432', '2024-11-16', 'SFO', 'XXX', 'economy')"),
    '{"booking_status": false, "error": "Invalid destination airport code: XXX"}',
  );
  assert.equal(
    open.call("book_flight('251675', '1432', '2024-11-16', 'SFO', 'HKG', 'economy')"),
    '{"booking_status": false, "error": "No available route for the given airports."}',
  );
  // After the token draw, Random(141053) gives 5431449 and 59784505 (CPython 3.11).
  assert.equal(
    open.call("book_flight('251675', '1432', '2024-11-16', 'SFO', 'LAX', 'economy')"),
    '{"booking_id": "5431449", "transaction_id": "59784505", "booking_status": true, "booking_history": {}}',
  );
  assert.equal(((open.state().credit_card_list as Map<string, PyDict>).get("1432")!.balance as object).valueOf(), 4800);
  assert.equal(
    open.call("retrieve_invoice('251675', '5431449')"),
    '{"invoice": {"booking_id": "5431449", "travel_date": "2024-11-16", "travel_from": "SFO", "travel_to": "LAX", ' +
      '"travel_class": "economy", "travel_cost": 200.0, "transaction_id": "59784505"}}',
  );
  assert.equal(open.call("cancel_booking('251675', '5431449')"), '{"cancel_status": true}');
  assert.equal(open.call("cancel_booking('251675', '5431449')"), '{"cancel_status": false, "error": "Booking not found"}');
  assert.equal(open.call("get_credit_card_balance('251675', '1432')"), '{"card_balance": 5000.0}');
});

test("TravelAPI: long-context mode adds cards and bookings, and book_flight returns the whole history", () => {
  const api = session({ credit_card_list: structuredClone(CARD) }, true);
  const cards = api.state().credit_card_list as Map<string, PyDict>;
  assert.deepEqual([...cards.keys()].slice(0, 3), ["1432", "1234567812345678", "2345678923456789"]);
  assert.equal(cards.size, 23);
  api.call(LOGIN);
  const booked = api.call("book_flight('251675', '1432', '2024-11-16', 'SFO', 'LAX', 'economy')");
  // Python's insertion order: config records, the extension, then the new booking (a plain JS object would
  // put the 7-digit id first).
  assert.ok(booked.startsWith('{"booking_id": "5431449", "transaction_id": "59784505", "booking_status": true, "booking_history": {"booking_901": '));
  api.call("book_flight('251675', '1234567812345678', '2024-11-16', 'SFO', 'LAX', 'economy')");
  // Each entry gets its own copy of the extension cards: the next entry sees the card untouched.
  const next = session({}, true).state().credit_card_list as Map<string, PyDict>;
  assert.equal((next.get("1234567812345678")!.balance as object).valueOf(), 5000);
  assert.ok(booked.endsWith('"5431449": {"card_id": "1432", "travel_date": "2024-11-16", "travel_from": "SFO", "travel_to": "LAX", "travel_class": "economy", "travel_cost": 200.0, "transaction_id": "59784505"}}}'));
});

test("TravelAPI: exchange rates, traveler checks and insurance", () => {
  const api = session({ credit_card_list: structuredClone(CARD), booking_record: { b1: { card_id: "1432", travel_cost: 10 } } });
  assert.equal(api.call("compute_exchange_rate('USD', 'RMB', 100)"), '{"exchanged_value": 700}');
  assert.equal(api.call("compute_exchange_rate('EUR', 'USD', 100)"), '{"exchanged_value": 125.0}');
  assert.equal(api.call("compute_exchange_rate('RMB', 'USD', 100)"), '{"exchanged_value": 14.29}');
  assert.equal(api.call("compute_exchange_rate('EUR', 'JPY', 1)"), "Error during execution: No available exchange rate for the given currencies.");
  api.call(LOGIN);
  assert.equal(
    api.call("verify_traveler_information('Bo', 'Lee', '1990-01-01', 'US1')"),
    '{"verification_status": false, "verification_failure": "Cannot book flight information for another user.Expected Ana Lee, got Bo Lee"}',
  );
  assert.equal(
    api.call("verify_traveler_information('Ana', 'Lee', '1990-13-01', 'US1')"),
    '{"verification_status": false, "verification_failure": "Invalid date of birth format. Please use YYYY-MM-DD."}',
  );
  const child = `${new Date().getFullYear() - 5}-01-01`;
  assert.equal(
    api.call(`verify_traveler_information('Ana', 'Lee', '${child}', 'US1')`),
    '{"verification_status": false, "verification_failure": "Traveler must be at least 18 years old."}',
  );
  assert.equal(
    api.call("verify_traveler_information('Ana', 'Lee', '1990-01-01', 'UK1')"),
    '{"verification_status": false, "verification_failure": "Passport must be issued by the United States."}',
  );
  assert.equal(api.call("verify_traveler_information('Ana', 'Lee', '1990-01-01', 'US1')"), '{"verification_status": true}');
  assert.equal(
    api.call("purchase_insurance('251675', 'travel', 'b2', 50, '1432')"),
    '{"insurance_status": false, "error": "Booking not found"}',
  );
  // The insurance id is the next draw after the token: randint(10**8, 10**9 - 1) on Random(141053) (CPython 3.11).
  assert.equal(api.call("purchase_insurance('251675', 'travel', 'b1', 50, '1432')"), '{"insurance_id": "986904079", "insurance_status": true}');
  assert.equal(((api.state().credit_card_list as Map<string, PyDict>).get("1432")!.balance as object).valueOf(), 4950);
  assert.equal(api.call("contact_customer_support('b9', 'hi')"), '{"error": "Booking not found"}');
});
