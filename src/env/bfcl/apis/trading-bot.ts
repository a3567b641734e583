// BFCL's TradingBot (stock trading account), written from BFCL's Python backend: the same checks in the same
// order, the same result dicts and error texts, the seeded transaction timestamps, and the long-context
// result changes (watch list, moving averages, order metadata, transaction history, sector lists).
import { pyStr } from "../python/repr.js";
import { PyRandom } from "../python/random.js";
import { describePyType, isPyDict, pyFloat, type PyDict, type PyValue } from "../python/value.js";
import { longContextConstants } from "./long-context-constants.js";
import { arg, method } from "./method-table.js";
import {
  copyDict,
  dictGet,
  dictKey,
  getItem,
  lookup,
  pyAbs,
  pyAdd,
  pyCompare,
  pyContains,
  pyEquals,
  pyIterate,
  pyMul,
  pySub,
  pyToFloat,
  pyTrueDiv,
  pyTruthy,
  setItem,
} from "./python-ops.js";
import { dateTimeOrder, strptime } from "./python-time.js";
import { BfclCallError, type BfclApi, type BfclApiClass, type BfclMethod } from "./types.js";

type Orders = Map<number | string, PyValue>;

// 2024-09-01 10:30:00, the backend's fixed "now"; timestamps are drawn from the day after it.
const CURRENT_TIME_MS = Date.UTC(2024, 8, 1, 10, 30, 0);
const SECONDS_PER_DAY = 86400;
const MARKET_OPEN_MINUTE = 9 * 60 + 30;
const MARKET_CLOSE_MINUTE = 16 * 60;

const SYMBOL_BY_NAME: Record<string, string> = {
  Apple: "AAPL",
  Google: "GOOG",
  Tesla: "TSLA",
  Microsoft: "MSFT",
  Nvidia: "NVDA",
  "Zeta Corp": "ZETA",
  "Alpha Tech": "ALPH",
  "Omega Industries": "OMEG",
  "Quasar Ltd.": "QUAS",
  "Neptune Systems": "NEPT",
  "Synex Solutions": "SYNX",
  Amazon: "AMZN",
};

function stock(price: number, percentChange: number, volume: number, ma5: number, ma20: PyValue): PyDict {
  return { price, percent_change: percentChange, volume, "MA(5)": ma5, "MA(20)": ma20 };
}

/** A fresh copy of the Python DEFAULT_STATE (integral floats boxed so they stay floats). */
function defaultState(): PyDict {
  return {
    orders: {
      "12345": { id: 12345, order_type: "Buy", symbol: "AAPL", price: 210.65, amount: 10, status: "Completed" },
      "12446": { id: 12446, order_type: "Sell", symbol: "GOOG", price: 2840.56, amount: 5, status: "Pending" },
    },
    account_info: { account_id: 12345, balance: pyFloat(10000), binding_card: 1974202140965533 },
    authenticated: false,
    market_status: "Closed",
    order_counter: 12446,
    stocks: {
      AAPL: stock(227.16, 0.17, 2.552, 227.11, 227.09),
      GOOG: stock(2840.34, 0.24, 1.123, 2835.67, 2842.15),
      TSLA: stock(667.92, -0.12, 1.654, 671.15, 668.2),
      MSFT: stock(310.23, 0.09, 3.234, 309.88, 310.11),
      NVDA: stock(220.34, 0.34, 1.234, 220.45, 220.67),
      ALPH: stock(1320.45, -0.08, 1.567, 1321.12, 1325.78),
      OMEG: stock(457.23, 0.12, 2.345, 456.78, 458.12),
      QUAS: stock(725.89, -0.03, 1.789, 726.45, pyFloat(728)),
      NEPT: stock(88.34, 0.19, 0.654, 88.21, 88.67),
      SYNX: stock(345.67, 0.11, 2.112, 345.34, 346.12),
      ZETA: stock(22.09, -0.05, 0.789, 22.12, 22.34),
    },
    watch_list: ["NVDA"],
    transaction_history: [],
    random_seed: 1053520,
  };
}

/** Digit-only string keys become ints, as `_load_scenario` converts them; Map keeps Python's order. */
function toOrders(value: PyValue): Orders {
  if (value instanceof Map) return value;
  if (!isPyDict(value)) throw new BfclCallError(`'${describePyType(value)}' object has no attribute 'items'`);
  const orders: Orders = new Map();
  for (const [key, order] of Object.entries(value)) orders.set(/^[0-9]+$/.test(key) ? Number(key) : key, order);
  return orders;
}

function asList(value: PyValue): PyValue[] {
  if (Array.isArray(value)) return value;
  throw new BfclCallError(`'${describePyType(value)}' object has no attribute 'append'`);
}

/** One "{symbol}" substitution per metadata text, prepared once: `str.format(symbol=...)` on fixed texts. */
let orderMetadataParts: Array<[string, string[]]> | undefined;

function orderMetadata(symbol: PyValue): PyDict {
  orderMetadataParts ??= Object.entries(longContextConstants().ORDER_DETAIL_EXTENSION as PyDict).map(
    ([key, text]) => [key, (text as string).split("{symbol}")],
  );
  const name = pyStr(symbol);
  const metadata: PyDict = {};
  for (const [key, parts] of orderMetadataParts) metadata[key] = parts.join(name);
  return metadata;
}

class TradingBotApi implements BfclApi {
  private orders: Orders = new Map();
  private accountInfo: PyValue = {};
  private authenticated: PyValue = false;
  private marketStatus: PyValue = "Closed";
  private orderCounter: PyValue = 12446;
  private stocks: PyValue = {};
  private watchList: PyValue = [];
  private transactionHistory: PyValue = [];
  private longContext = false;
  private random = new PyRandom(1053520);

  readonly methods: Record<string, BfclMethod> = {
    get_current_time: method("", () => ({ current_time: "10:30 AM" })),
    update_market_status: method("current_time_str", (a) => this.updateMarketStatus(a.current_time_str)),
    get_symbol_by_name: method("name", (a) => ({ symbol: lookup(SYMBOL_BY_NAME, a.name, "Stock not found") })),
    get_stock_info: method("symbol", (a) => this.getStockInfo(a.symbol)),
    get_order_details: method("order_id", (a) => this.getOrderDetails(a.order_id)),
    cancel_order: method("order_id", (a) => this.cancelOrder(a.order_id)),
    place_order: method("order_type, symbol, price, amount", (a) => this.placeOrder(a.order_type, a.symbol, a.price, a.amount)),
    make_transaction: method("account_id, xact_type, amount", (a) => this.makeTransaction(a.account_id, a.xact_type, a.amount)),
    get_account_info: method("", () => {
      if (!pyTruthy(this.authenticated)) return { error: "User not authenticated. Please log in to view account information." };
      return this.accountInfo;
    }),
    trading_login: method("username, password", () => {
      if (pyTruthy(this.authenticated)) return { status: "Already logged in" };
      this.authenticated = true;
      return { status: "Logged in successfully" };
    }),
    trading_get_login_status: method("", () => ({ status: pyTruthy(this.authenticated) })),
    trading_logout: method("", () => {
      if (!pyTruthy(this.authenticated)) return { status: "No user is currently logged in" };
      this.authenticated = false;
      return { status: "Logged out successfully" };
    }),
    fund_account: method("amount", (a) => this.fundAccount(a.amount)),
    remove_stock_from_watchlist: method("symbol", (a) => this.removeFromWatchlist(a.symbol)),
    get_watchlist: method("", () => this.getWatchlist()),
    get_order_history: method("", () => {
      if (!pyTruthy(this.authenticated)) return [{ error: "User not authenticated. Please log in to view order history." }];
      return { history: [...this.orders.keys()] };
    }),
    get_transaction_history: method("start_date=, end_date=", (a) =>
      this.getTransactionHistory(arg(a, "start_date", null), arg(a, "end_date", null)),
    ),
    update_stock_price: method("symbol, new_price", (a) => this.updateStockPrice(a.symbol, a.new_price)),
    get_available_stocks: method("sector", (a) => this.getAvailableStocks(a.sector)),
    filter_stocks_by_price: method("stocks, min_price, max_price", (a) => this.filterStocksByPrice(a.stocks, a.min_price, a.max_price)),
    add_to_watchlist: method("stock", (a) => {
      if (!pyContains(this.watchList, a.stock) && pyContains(this.stocks, a.stock)) asList(this.watchList).push(a.stock);
      return { symbol: this.watchList };
    }),
    notify_price_change: method("stocks, threshold", (a) => this.notifyPriceChange(a.stocks, a.threshold)),
  };

  loadScenario(config: PyDict, longContext: boolean): void {
    const scenario = config;
    const defaults = defaultState();
    const get = (key: string): PyValue => (Object.hasOwn(scenario, key) ? scenario[key]! : defaults[key]!);
    this.orders = toOrders(get("orders"));
    this.accountInfo = get("account_info");
    this.authenticated = get("authenticated");
    this.marketStatus = get("market_status");
    this.orderCounter = get("order_counter");
    this.stocks = get("stocks");
    this.watchList = get("watch_list");
    this.transactionHistory = get("transaction_history");
    this.longContext = longContext;
    this.random = new PyRandom(get("random_seed") as number);
  }

  state(): PyDict {
    return {
      orders: this.orders,
      account_info: this.accountInfo,
      authenticated: this.authenticated,
      market_status: this.marketStatus,
      order_counter: this.orderCounter,
      stocks: this.stocks,
      watch_list: this.watchList,
      transaction_history: this.transactionHistory,
      long_context: this.longContext,
    };
  }

  private transactionTimestamp(): string {
    const when = new Date(CURRENT_TIME_MS + this.random.randint(0, SECONDS_PER_DAY) * 1000);
    const two = (n: number) => String(n).padStart(2, "0");
    return (
      `${when.getUTCFullYear()}-${two(when.getUTCMonth() + 1)}-${two(when.getUTCDate())} ` +
      `${two(when.getUTCHours())}:${two(when.getUTCMinutes())}:${two(when.getUTCSeconds())}`
    );
  }

  private updateMarketStatus(currentTime: PyValue): PyValue {
    const parsed = strptime(currentTime, "%I:%M %p");
    const minute = parsed.hour * 60 + parsed.minute;
    this.marketStatus = minute >= MARKET_OPEN_MINUTE && minute <= MARKET_CLOSE_MINUTE ? "Open" : "Closed";
    return { status: this.marketStatus };
  }

  private getStockInfo(symbol: PyValue): PyValue {
    if (!pyContains(this.stocks, symbol)) return { error: `Stock with symbol '${pyStr(symbol)}' not found.` };
    const info = getItem(this.stocks, symbol);
    if (!this.longContext) return info;
    const constants = longContextConstants();
    return { ...copyDict(info), "MA(5)": constants.MA_5_EXTENSION!, "MA(20)": constants.MA_20_EXTENSION! };
  }

  private getOrderDetails(orderId: PyValue): PyValue {
    if (!pyContains(this.orders, orderId)) {
      return {
        error: `Order with ID ${pyStr(orderId)} not found.Here is the list of orders_id: ${pyStr([...this.orders.keys()])}`,
      };
    }
    if (!this.longContext) return this.orders.get(dictKey(orderId))!;
    const order = copyDict(getItem(this.orders, orderId));
    order.metadata = orderMetadata(getItem(order, "symbol"));
    return order;
  }

  private cancelOrder(orderId: PyValue): PyValue {
    if (!pyContains(this.orders, orderId)) return { error: `Order with ID ${pyStr(orderId)} not found.` };
    const order = getItem(this.orders, orderId);
    if (pyEquals(getItem(order, "status"), "Completed")) {
      return { error: `Can't cancel order ${pyStr(orderId)}. Order is already completed.` };
    }
    setItem(order, "status", "Cancelled");
    return { order_id: orderId, status: "Cancelled" };
  }

  private placeOrder(orderType: PyValue, symbol: PyValue, price: PyValue, amount: PyValue): PyValue {
    if (!pyTruthy(this.authenticated)) return { error: "User not authenticated. Please log in to place an order." };
    if (!pyContains(this.stocks, symbol)) return { error: `Invalid stock symbol: ${pyStr(symbol)}` };
    if (pyCompare(price, "<=", 0) || pyCompare(amount, "<=", 0)) return { error: "Price and amount must be positive values." };
    const floatPrice = pyToFloat(price);
    const orderId = this.orderCounter;
    this.orders.set(dictKey(orderId), {
      id: orderId,
      order_type: orderType,
      symbol,
      price: floatPrice,
      amount,
      status: "Open",
    });
    this.orderCounter = pyAdd(this.orderCounter, 1, "+=");
    // Reported as "Pending" while the stored order says "Open", as upstream does.
    return { order_id: orderId, order_type: orderType, status: "Pending", price: floatPrice, amount };
  }

  private makeTransaction(accountId: PyValue, kind: PyValue, amount: PyValue): PyValue {
    if (!pyTruthy(this.authenticated)) return { error: "User not authenticated. Please log in to make a transaction." };
    if (!pyEquals(this.marketStatus, "Open")) return { error: "Market is closed. Transactions are not allowed." };
    const account = this.accountInfo;
    if (!pyEquals(accountId, getItem(account, "account_id"))) return { error: `Account with ID ${pyStr(accountId)} not found.` };
    if (pyCompare(amount, "<=", 0)) return { error: "Transaction amount must be positive." };
    if (pyEquals(kind, "deposit")) {
      setItem(account, "balance", pyAdd(getItem(account, "balance"), amount, "+="));
      asList(this.transactionHistory).push({ type: "deposit", amount, timestamp: this.transactionTimestamp() });
      return { status: "Deposit successful", new_balance: getItem(account, "balance") };
    }
    if (pyEquals(kind, "withdrawal")) {
      if (pyCompare(amount, ">", getItem(account, "balance"))) return { error: "Insufficient funds for withdrawal." };
      setItem(account, "balance", pySub(getItem(account, "balance"), amount, "-="));
      asList(this.transactionHistory).push({ type: "withdrawal", amount, timestamp: this.transactionTimestamp() });
      return { status: "Withdrawal successful", new_balance: getItem(account, "balance") };
    }
    return { error: "Invalid transaction type. Use 'deposit' or 'withdrawal'." };
  }

  private fundAccount(amount: PyValue): PyValue {
    if (!pyTruthy(this.authenticated)) return { error: "User not authenticated. Please log in to fund the account." };
    if (pyCompare(amount, "<=", 0)) return { error: "Funding amount must be positive." };
    const account = this.accountInfo;
    setItem(account, "balance", pyAdd(getItem(account, "balance"), amount, "+="));
    asList(this.transactionHistory).push({ type: "deposit", amount, timestamp: this.transactionTimestamp() });
    return { status: "Account funded successfully", new_balance: getItem(account, "balance") };
  }

  private removeFromWatchlist(symbol: PyValue): PyValue {
    if (!pyTruthy(this.authenticated)) return { error: "User not authenticated. Please log in to modify the watchlist." };
    if (!pyContains(this.watchList, symbol)) return { error: `Stock ${pyStr(symbol)} not found in watchlist.` };
    const list = asList(this.watchList);
    list.splice(
      list.findIndex((entry) => pyEquals(entry, symbol)),
      1,
    );
    return { status: `Stock ${pyStr(symbol)} removed from watchlist successfully.` };
  }

  private getWatchlist(): PyValue {
    if (!pyTruthy(this.authenticated)) return ["Error: User not authenticated. Please log in to view the watchlist."];
    if (this.longContext) return [...pyIterate(this.watchList), ...(longContextConstants().WATCH_LIST_EXTENSION as PyValue[])];
    return { watchlist: this.watchList };
  }

  private getTransactionHistory(startDate: PyValue, endDate: PyValue): PyValue {
    if (!pyTruthy(this.authenticated)) return [{ error: "User not authenticated. Please log in to view transaction history." }];
    const parseDate = (value: PyValue, fallback: number): number => {
      if (!pyTruthy(value)) return fallback;
      return dateTimeOrder(strptime(value, "%Y-%m-%d"));
    };
    const start = parseDate(startDate, -Infinity);
    const end = parseDate(endDate, Infinity);
    const history = pyIterate(this.transactionHistory).filter((transaction) => {
      const when = dateTimeOrder(strptime(getItem(transaction, "timestamp"), "%Y-%m-%d %H:%M:%S"));
      return start <= when && when <= end;
    });
    if (this.longContext) history.push(...(longContextConstants().TRANSACTION_HISTORY_EXTENSION as PyValue[]));
    return { transaction_history: history };
  }

  private updateStockPrice(symbol: PyValue, newPrice: PyValue): PyValue {
    if (!pyContains(this.stocks, symbol)) return { error: `Stock with symbol '${pyStr(symbol)}' not found.` };
    if (pyCompare(newPrice, "<=", 0)) return { error: "New price must be a positive value." };
    const info = getItem(this.stocks, symbol);
    const oldPrice = getItem(info, "price");
    setItem(info, "price", newPrice);
    setItem(info, "percent_change", pyMul(pyTrueDiv(pySub(newPrice, oldPrice), oldPrice), 100));
    return { symbol, old_price: oldPrice, new_price: newPrice };
  }

  private getAvailableStocks(sector: PyValue): PyValue {
    const technology: PyValue[] = ["AAPL", "GOOG", "MSFT", "NVDA"];
    const automobile: PyValue[] = ["TSLA", "F", "GM"];
    if (this.longContext) {
      const constants = longContextConstants();
      technology.push(...(constants.TECHNOLOGY_EXTENSION as PyValue[]));
      automobile.push(...(constants.AUTOMOBILE_EXTENSION as PyValue[]));
    }
    return { stock_list: lookup({ Technology: technology, Automobile: automobile }, sector, []) };
  }

  private priceOf(symbol: PyValue): PyValue {
    return dictGet(dictGet(this.stocks, symbol, {}), "price", 0);
  }

  private filterStocksByPrice(stocks: PyValue, minPrice: PyValue, maxPrice: PyValue): PyValue {
    const filtered = pyIterate(stocks).filter(
      (symbol) => pyCompare(this.priceOf(symbol), ">=", minPrice) && pyCompare(this.priceOf(symbol), "<=", maxPrice),
    );
    return { filtered_stocks: filtered };
  }

  private notifyPriceChange(stocks: PyValue, threshold: PyValue): PyValue {
    const changed = pyIterate(stocks).filter(
      (symbol) =>
        pyContains(this.stocks, symbol) &&
        pyCompare(pyAbs(getItem(getItem(this.stocks, symbol), "percent_change")), ">=", threshold),
    );
    if (changed.length === 0) return { notification: "No significant price changes in the selected stocks." };
    return { notification: `Stocks ${changed.map((symbol) => pyStr(symbol)).join(", ")} have significant price changes.` };
  }
}

export const TradingBot: BfclApiClass = {
  className: "TradingBot",
  docFile: "trading_bot",
  create: () => new TradingBotApi(),
};
