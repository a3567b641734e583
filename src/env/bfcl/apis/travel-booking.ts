// BFCL's TravelAPI (flights, credit cards, insurance), written from BFCL's Python backend: the same checks in
// the same order, the same result dicts and error texts, the seeded ids drawn only on success paths, the route
// cost table, and the long-context changes (extra cards and bookings loaded into the state, the whole route
// table's costs from get_flight_cost, the booking history from book_flight).
import { pyStr } from "../python/repr.js";
import { PyRandom } from "../python/random.js";
import { deepCopy, describePyType, isPyDict, pyFloat, type PyDict, type PyValue } from "../python/value.js";
import { longContextConstants } from "./long-context-constants.js";
import { arg, method } from "./method-table.js";
import {
  PyValueError,
  dictKey,
  getItem,
  lookup,
  pyAdd,
  pyCompare,
  pyContains,
  pyEquals,
  pyIterate,
  pyMul,
  pyRoundFloat,
  pySub,
  pyToFloat,
  pyTrueDiv,
  requireHashable,
  requireStr,
  setItem,
} from "./python-ops.js";
import { strptime } from "./python-time.js";
import { BfclCallError, type BfclApi, type BfclApiClass, type BfclMethod } from "./types.js";
import { ROUTE_COSTS, routeKey } from "./travel-routes.js";

/** A str-keyed dict whose keys may look like numbers ("3426812"): a Map keeps Python's insertion order. */
type Records = Map<number | string, PyValue>;

const AIRPORTS = [
  "RMS", "SBK", "MPC", "SVP", "SHD", "CDG", "LHR", "SSV", "OKD", "WLB", "PEK", "HND",
  "HKG", "CIA", "CRH", "ATV", "PHV", "GFD", "SFO", "LAX", "JFK", "ORD", "BOS",
];

const AIRPORT_BY_CITY: Record<string, string> = {
  Rivermist: "RMS",
  Stonebrook: "SBK",
  Maplecrest: "MPC",
  Silverpine: "SVP",
  Shadowridge: "SHD",
  London: "LHR",
  Paris: "CDG",
  "Sunset Valley": "SSV",
  Oakendale: "OKD",
  Willowbend: "WLB",
  "Crescent Hollow": "CRH",
  Autumnville: "ATV",
  Pinehaven: "PHV",
  Greenfield: "GFD",
  "San Francisco": "SFO",
  "Los Angeles": "LAX",
  "New York": "JFK",
  Chicago: "ORD",
  Boston: "BOS",
  Beijing: "PEK",
  "Hong Kong": "HKG",
  Rome: "CIA",
  Tokyo: "HND",
};

const CLASS_FACTORS: Record<string, number> = { economy: 1, business: 2, first: 5 };
// Python prints this set in hash order, which changes from run to run; any fixed order is as faithful.
const VALID_CLASSES_TEXT = "{'economy', 'business', 'first'}";

/** USD to each currency; floats where the source writes a float. */
const EXCHANGE_RATES: Array<[string, string, PyValue]> = [
  ["USD", "RMB", 7],
  ["USD", "EUR", 0.8],
  ["USD", "JPY", 110],
  ["USD", "GBP", 0.7],
  ["USD", "CAD", 1.3],
  ["USD", "AUD", 1.4],
  ["USD", "INR", 70],
  ["USD", "RUB", 60],
  ["USD", "BRL", 3.8],
  ["USD", "MXN", 20],
];

const SUPPORT_MESSAGE =
  "Thank you for contacting customer support. Your message has been received and we will get back to you shortly.";

function toRecords(value: PyValue): Records {
  if (value instanceof Map) return value;
  if (!isPyDict(value)) throw new BfclCallError(`'${describePyType(value)}' object has no attribute 'items'`);
  return new Map(Object.entries(value));
}

/** `sum(int(c) for c in travel_date if c.isdigit())`. */
function digitSum(travelDate: PyValue): number {
  let sum = 0;
  for (const item of pyIterate(travelDate)) {
    const text = requireStr(item, "isdigit");
    if (/^[0-9]+$/.test(text)) sum += Number(text);
  }
  return sum;
}

class TravelApi implements BfclApi {
  private random = new PyRandom(141053);
  private creditCardList: Records = new Map();
  private bookingRecord: Records = new Map();
  private accessToken: PyValue = null;
  private tokenType: PyValue = null;
  private tokenExpiresIn: PyValue = null;
  private tokenScope: PyValue = null;
  private userFirstName: PyValue = null;
  private userLastName: PyValue = null;
  private budgetLimit: PyValue = null;
  private longContext = false;

  readonly methods: Record<string, BfclMethod> = {
    authenticate_travel: method("client_id, client_secret, refresh_token, grant_type, user_first_name, user_last_name", (a) => {
      this.tokenExpiresIn = 2;
      this.accessToken = String(this.random.randint(100000, 999999));
      this.tokenType = "Bearer";
      this.tokenScope = a.grant_type;
      this.userFirstName = a.user_first_name;
      this.userLastName = a.user_last_name;
      return { expires_in: 2, access_token: this.accessToken, token_type: "Bearer", scope: a.grant_type };
    }),
    travel_get_login_status: method("", () => ({
      status: !(this.tokenExpiresIn === null || pyEquals(this.tokenExpiresIn, 0)),
    })),
    get_budget_fiscal_year: method("lastModifiedAfter=, includeRemoved=", () => ({ budget_fiscal_year: "2018" })),
    register_credit_card: method("access_token, card_number, expiration_date, cardholder_name, card_verification_number", (a) =>
      this.registerCreditCard(a),
    ),
    get_flight_cost: method("travel_from, travel_to, travel_date, travel_class", (a) => ({
      travel_cost_list: this.flightCosts(a.travel_from, a.travel_to, a.travel_date, a.travel_class).list,
    })),
    get_credit_card_balance: method("access_token, card_id", (a) => {
      const denied = this.checkToken(a.access_token, {});
      if (denied) return denied;
      if (!pyContains(this.creditCardList, a.card_id)) {
        return { error: `Card not registered. Here are a list of card_id's: ${pyStr([...this.creditCardList.keys()])}` };
      }
      return { card_balance: getItem(this.card(a.card_id), "balance") };
    }),
    book_flight: method("access_token, card_id, travel_date, travel_from, travel_to, travel_class", (a) => this.bookFlight(a)),
    retrieve_invoice: method("access_token, booking_id=, insurance_id=", (a) => this.retrieveInvoice(a.access_token, arg(a, "booking_id", null))),
    list_all_airports: method("", () => [...AIRPORTS]),
    cancel_booking: method("access_token, booking_id", (a) => this.cancelBooking(a.access_token, a.booking_id)),
    compute_exchange_rate: method("base_currency, target_currency, value", (a) =>
      this.computeExchangeRate(a.base_currency, a.target_currency, a.value),
    ),
    verify_traveler_information: method("first_name, last_name, date_of_birth, passport_number", (a) =>
      this.verifyTraveler(a.first_name, a.last_name, a.date_of_birth, a.passport_number),
    ),
    set_budget_limit: method("access_token, budget_limit", (a) => {
      const denied = this.checkToken(a.access_token, {});
      if (denied) return denied;
      this.budgetLimit = pyToFloat(a.budget_limit);
      return { budget_limit: this.budgetLimit };
    }),
    get_nearest_airport_by_city: method("location", (a) => ({ nearest_airport: lookup(AIRPORT_BY_CITY, a.location, "Unknown") })),
    purchase_insurance: method("access_token, insurance_type, booking_id, insurance_cost, card_id", (a) => this.purchaseInsurance(a)),
    contact_customer_support: method("booking_id, message", (a): PyValue => {
      if (!pyContains(this.bookingRecord, a.booking_id)) return { error: "Booking not found" };
      return { customer_support_message: SUPPORT_MESSAGE };
    }),
    get_all_credit_cards: method("", () => ({ credit_card_list: this.creditCardList })),
  };

  loadScenario(config: PyDict, longContext: boolean): void {
    const get = (key: string, fallback: PyValue): PyValue => (Object.hasOwn(config, key) ? config[key]! : fallback);
    this.random = new PyRandom(get("random_seed", 141053) as number);
    this.creditCardList = toRecords(get("credit_card_list", {}));
    this.bookingRecord = toRecords(get("booking_record", {}));
    this.accessToken = get("access_token", null);
    this.tokenType = get("token_type", null);
    this.tokenExpiresIn = get("token_expires_in", null);
    this.tokenScope = get("token_scope", null);
    this.userFirstName = get("user_first_name", null);
    this.userLastName = get("user_last_name", null);
    this.budgetLimit = get("budget_limit", null);
    this.longContext = longContext;
    if (longContext) {
      // Upstream inserts the constant's own records; copies keep one entry's bookings out of the next one.
      const constants = longContextConstants();
      for (const [records, extension] of [
        [this.creditCardList, constants.CREDIT_CARD_EXTENSION],
        [this.bookingRecord, constants.BOOKING_RECORD_EXTENSION],
      ] as const) {
        for (const [id, record] of Object.entries(extension as PyDict)) {
          if (!records.has(id)) records.set(id, deepCopy(record));
        }
      }
    }
  }

  state(): PyDict {
    return {
      credit_card_list: this.creditCardList,
      booking_record: this.bookingRecord,
      access_token: this.accessToken,
      token_type: this.tokenType,
      token_expires_in: this.tokenExpiresIn,
      token_scope: this.tokenScope,
      user_first_name: this.userFirstName,
      user_last_name: this.userLastName,
      budget_limit: this.budgetLimit,
      long_context: this.longContext,
    };
  }

  private card(cardId: PyValue): PyValue {
    return getItem(this.creditCardList, cardId);
  }

  /**
   * The token checks most methods open with: an expired token, then a wrong one (which costs one use).
   * `extra` is merged into the error dict ahead of "error", as in e.g. {"booking_status": False, "error": ...}.
   */
  private checkToken(accessToken: PyValue, extra: PyDict): PyDict | undefined {
    if (pyEquals(this.tokenExpiresIn, 0)) return { ...extra, error: "Token expired" };
    if (!pyEquals(accessToken, this.accessToken)) {
      this.tokenExpiresIn = pySub(this.tokenExpiresIn, 1, "-=");
      return { ...extra, error: "Invalid access token" };
    }
    return undefined;
  }

  private registerCreditCard(a: Record<string, PyValue>): PyValue {
    if (this.tokenExpiresIn === null) return { error: "Token not initialized" };
    const denied = this.checkToken(a.access_token, {});
    if (denied) return denied;
    if (pyContains(this.creditCardList, a.card_number)) return { error: "Card already registered" };
    const cardId = String(this.random.randint(100000000000, 999999999999));
    this.creditCardList.set(cardId, {
      card_number: a.card_number,
      expiration_date: a.expiration_date,
      cardholder_name: a.cardholder_name,
      card_verification_number: a.card_verification_number,
      balance: this.random.randint(10000, 99999),
    });
    return { card_id: cardId };
  }

  /** get_flight_cost: the requested route's cost, and the list it reports (every route in long-context mode). */
  private flightCosts(from: PyValue, to: PyValue, travelDate: PyValue, travelClass: PyValue): { cost: PyValue; list: PyValue[] } {
    requireHashable(from);
    requireHashable(to);
    const base = typeof from === "string" && typeof to === "string" ? ROUTE_COSTS.get(routeKey(from, to)) : undefined;
    if (base === undefined) throw new PyValueError("No available route for the given airports.");
    const factor = typeof travelClass === "string" && Object.hasOwn(CLASS_FACTORS, travelClass) ? CLASS_FACTORS[travelClass]! : undefined;
    if (factor === undefined) throw new PyValueError("Invalid travel class. Options are: economy, business, first.");
    const dateMultiplier = digitSum(travelDate) % 2 === 0 ? 2 : 1;
    const cost = pyFloat(base * factor * dateMultiplier);
    if (!this.longContext) return { cost, list: [cost] };
    const list: PyValue[] = [];
    for (const routeBase of ROUTE_COSTS.values()) list.push(pyFloat(routeBase * factor * dateMultiplier));
    return { cost, list };
  }

  private bookFlight(a: Record<string, PyValue>): PyValue {
    const failed = { booking_status: false };
    const denied = this.checkToken(a.access_token, failed);
    if (denied) return denied;
    if (!pyContains(this.creditCardList, a.card_id)) return { ...failed, error: "Card not registered" };
    const card = this.card(a.card_id);
    if (!pyContains(card, "balance")) return { ...failed, error: "Balance not found" };
    if (!pyContains(AIRPORTS, a.travel_from)) return { ...failed, error: `Invalid departure airport code: ${pyStr(a.travel_from)}` };
    if (!pyContains(AIRPORTS, a.travel_to)) return { ...failed, error: `Invalid destination airport code: ${pyStr(a.travel_to)}` };
    try {
      strptime(a.travel_date, "%Y-%m-%d");
    } catch (error) {
      if (error instanceof PyValueError) return { ...failed, error: "Invalid date format. Use YYYY-MM-DD." };
      throw error;
    }
    requireHashable(a.travel_class);
    if (typeof a.travel_class !== "string" || !Object.hasOwn(CLASS_FACTORS, a.travel_class)) {
      return { ...failed, error: `Invalid travel class. Must be one of ${VALID_CLASSES_TEXT}` };
    }
    let travelCost: PyValue;
    try {
      travelCost = this.flightCosts(a.travel_from, a.travel_to, a.travel_date, a.travel_class).cost;
    } catch (error) {
      if (error instanceof PyValueError) return { ...failed, error: error.message };
      throw error;
    }
    if (pyCompare(getItem(card, "balance"), "<", travelCost)) return { ...failed, error: "Insufficient funds" };
    if (this.budgetLimit !== null && pyCompare(getItem(card, "balance"), "<", this.budgetLimit)) {
      return { ...failed, error: "Balance is less than budget limit" };
    }
    setItem(card, "balance", pySub(getItem(card, "balance"), travelCost, "-="));
    const bookingId = String(this.random.randint(1000000, 9999999));
    const transactionId = String(this.random.randint(10000000, 99999999));
    this.bookingRecord.set(bookingId, {
      card_id: a.card_id,
      travel_date: a.travel_date,
      travel_from: a.travel_from,
      travel_to: a.travel_to,
      travel_class: a.travel_class,
      travel_cost: travelCost,
      transaction_id: transactionId,
    });
    return {
      booking_id: bookingId,
      transaction_id: transactionId,
      booking_status: true,
      booking_history: this.longContext ? this.bookingRecord : {},
    };
  }

  private retrieveInvoice(accessToken: PyValue, bookingId: PyValue): PyValue {
    const denied = this.checkToken(accessToken, {});
    if (denied) return denied;
    if (!pyContains(this.bookingRecord, bookingId)) return { error: "Booking not found" };
    const booking = getItem(this.bookingRecord, bookingId);
    const invoice: PyDict = { booking_id: bookingId };
    for (const field of ["travel_date", "travel_from", "travel_to", "travel_class", "travel_cost", "transaction_id"]) {
      invoice[field] = getItem(booking, field);
    }
    return { invoice };
  }

  private cancelBooking(accessToken: PyValue, bookingId: PyValue): PyValue {
    const denied = this.checkToken(accessToken, { cancel_status: false });
    if (denied) return denied;
    if (!pyContains(this.bookingRecord, bookingId)) return { cancel_status: false, error: "Booking not found" };
    const booking = getItem(this.bookingRecord, bookingId);
    const card = this.card(getItem(booking, "card_id"));
    setItem(card, "balance", pyAdd(getItem(card, "balance"), getItem(booking, "travel_cost"), "+="));
    this.bookingRecord.delete(dictKey(bookingId));
    return { cancel_status: true };
  }

  private computeExchangeRate(base: PyValue, target: PyValue, value: PyValue): PyValue {
    for (const [from, to, rate] of EXCHANGE_RATES) {
      if (pyEquals(base, from) && pyEquals(target, to)) return { exchanged_value: pyMul(value, rate) };
      if (pyEquals(base, to) && pyEquals(target, from)) return { exchanged_value: pyRoundFloat(pyTrueDiv(value, rate).value, 2) };
    }
    throw new PyValueError("No available exchange rate for the given currencies.");
  }

  private verifyTraveler(firstName: PyValue, lastName: PyValue, dateOfBirth: PyValue, passportNumber: PyValue): PyValue {
    if (!pyEquals(this.userFirstName, firstName) || !pyEquals(this.userLastName, lastName)) {
      return {
        verification_status: false,
        verification_failure:
          "Cannot book flight information for another user." +
          `Expected ${pyStr(this.userFirstName)} ${pyStr(this.userLastName)}, got ${pyStr(firstName)} ${pyStr(lastName)}`,
      };
    }
    let age: number;
    try {
      const birth = strptime(dateOfBirth, "%Y-%m-%d");
      const today = new Date();
      const month = today.getMonth() + 1;
      const beforeBirthday = month < birth.month || (month === birth.month && today.getDate() < birth.day);
      age = today.getFullYear() - birth.year - (beforeBirthday ? 1 : 0);
    } catch (error) {
      if (!(error instanceof PyValueError)) throw error;
      return { verification_status: false, verification_failure: "Invalid date of birth format. Please use YYYY-MM-DD." };
    }
    if (age < 18) return { verification_status: false, verification_failure: "Traveler must be at least 18 years old." };
    if (!requireStr(passportNumber, "startswith").startsWith("US")) {
      return { verification_status: false, verification_failure: "Passport must be issued by the United States." };
    }
    return { verification_status: true };
  }

  private purchaseInsurance(a: Record<string, PyValue>): PyValue {
    const failed = { insurance_status: false };
    const denied = this.checkToken(a.access_token, failed);
    if (denied) return denied;
    if (this.budgetLimit !== null && pyCompare(this.budgetLimit, "<", a.insurance_cost)) {
      return { ...failed, error: "Exceeded budget limit" };
    }
    if (!pyContains(this.bookingRecord, a.booking_id)) return { ...failed, error: "Booking not found" };
    if (!pyContains(this.creditCardList, a.card_id)) return { ...failed, error: "Credit card not registered" };
    const card = this.card(a.card_id);
    setItem(card, "balance", pySub(getItem(card, "balance"), a.insurance_cost, "-="));
    return { insurance_id: String(this.random.randint(100000000, 999999999)), insurance_status: true };
  }
}

export const TravelAPI: BfclApiClass = {
  className: "TravelAPI",
  docFile: "travel_booking",
  create: () => new TravelApi(),
};
