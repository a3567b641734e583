import assert from "node:assert/strict";
import { test } from "node:test";
import { BfclExecution } from "../executor.js";
import { pyFloat, type PyDict } from "../python/value.js";

function session(config: PyDict = {}, longContext = false) {
  const execution = new BfclExecution(
    { id: "unit_0", involved_classes: ["TradingBot"], initial_config: { TradingBot: config } },
    { longContext },
  );
  return { call: (text: string) => execution.executeText(text), state: () => execution.state().TradingBot! };
}

test("TradingBot: the default state, with int order ids, and login-gated results", () => {
  const bot = session();
  const state = bot.state();
  assert.deepEqual(Object.keys(state), [
    "orders", "account_info", "authenticated", "market_status", "order_counter", "stocks", "watch_list",
    "transaction_history", "long_context",
  ]);
  assert.deepEqual([...(state.orders as Map<number | string, unknown>).keys()], [12345, 12446]);
  assert.equal(bot.call("get_order_history()"), "[{'error': 'User not authenticated. Please log in to view order history.'}]");
  assert.equal(bot.call("get_watchlist()"), "['Error: User not authenticated. Please log in to view the watchlist.']");
  assert.equal(bot.call("trading_login(username='u', password='p')"), '{"status": "Logged in successfully"}');
  assert.equal(bot.call("trading_login(username='u', password='p')"), '{"status": "Already logged in"}');
  assert.equal(bot.call("get_account_info()"), '{"account_id": 12345, "balance": 10000.0, "binding_card": 1974202140965533}');
  assert.equal(bot.call("get_order_details(order_id=12345.0)").startsWith('{"id": 12345, "order_type": "Buy"'), true);
  assert.equal(
    bot.call("get_order_details(order_id=1)"),
    '{"error": "Order with ID 1 not found.Here is the list of orders_id: [12345, 12446]"}',
  );
  assert.equal(bot.call("cancel_order(12345)"), `{"error": "Can't cancel order 12345. Order is already completed."}`);
  assert.equal(bot.call("cancel_order(12446)"), '{"order_id": 12446, "status": "Cancelled"}');
});

test("TradingBot: orders take float prices and the counter; transactions need an open market", () => {
  const bot = session({ authenticated: true, order_counter: 20000, orders: { "1": { id: 1 }, order_type: "Buy" } });
  assert.deepEqual([...(bot.state().orders as Map<number | string, unknown>).keys()], [1, "order_type"]);
  assert.equal(bot.call("place_order('Buy', 'XYZ', 10, 1)"), '{"error": "Invalid stock symbol: XYZ"}');
  assert.equal(bot.call("place_order('Buy', 'AAPL', 0, 1)"), '{"error": "Price and amount must be positive values."}');
  assert.equal(
    bot.call("place_order(order_type='Buy', symbol='AAPL', price=150, amount=10)"),
    '{"order_id": 20000, "order_type": "Buy", "status": "Pending", "price": 150.0, "amount": 10}',
  );
  assert.equal(bot.call("get_order_history()"), `{"history": [1, "order_type", 20000]}`);
  assert.equal(bot.call("make_transaction(12345, 'deposit', 100)"), '{"error": "Market is closed. Transactions are not allowed."}');
  assert.equal(bot.call("update_market_status('4:01 PM')"), '{"status": "Closed"}');
  assert.equal(bot.call("update_market_status(current_time_str='9:30 am')"), '{"status": "Open"}');
  assert.equal(
    bot.call("update_market_status('16:00')"),
    "Error during execution: time data '16:00' does not match format '%I:%M %p'",
  );
  assert.equal(bot.call("make_transaction(1, 'deposit', 100)"), '{"error": "Account with ID 1 not found."}');
  assert.equal(bot.call("make_transaction(12345, 'withdrawal', 20000)"), '{"error": "Insufficient funds for withdrawal."}');
  assert.equal(bot.call("make_transaction(12345, 'transfer', 5)"), `{"error": "Invalid transaction type. Use 'deposit' or 'withdrawal'."}`);
  assert.equal(bot.call("fund_account(amount=-1)"), '{"error": "Funding amount must be positive."}');
});

test("TradingBot: transaction timestamps are CPython's seeded draws, filtered by date", () => {
  const bot = session({ authenticated: true, market_status: "Open" });
  // random.Random(1053520).randint over the 86401 seconds after 2024-09-01 10:30:00 gives 19 h 10 m 15 s and
  // then 1 h 56 m 34 s (checked with CPython 3.11).
  assert.equal(bot.call("fund_account(500)"), '{"status": "Account funded successfully", "new_balance": 10500.0}');
  assert.equal(bot.call("make_transaction(12345, 'withdrawal', 0.5)"), '{"status": "Withdrawal successful", "new_balance": 10499.5}');
  assert.deepEqual(bot.state().transaction_history, [
    { type: "deposit", amount: 500, timestamp: "2024-09-02 05:40:15" },
    { type: "withdrawal", amount: pyFloat(0.5), timestamp: "2024-09-01 12:26:34" },
  ]);
  assert.equal(
    bot.call("get_transaction_history(start_date='2024-09-02')"),
    '{"transaction_history": [{"type": "deposit", "amount": 500, "timestamp": "2024-09-02 05:40:15"}]}',
  );
  assert.equal(bot.call("get_transaction_history('2024-02-30')"), "Error during execution: day is out of range for month");
});

test("TradingBot: stock prices, filters and notifications keep Python's number types", () => {
  const bot = session();
  assert.equal(
    bot.call("update_stock_price('ZETA', 44.18)"),
    '{"symbol": "ZETA", "old_price": 22.09, "new_price": 44.18}',
  );
  // ((44.18 - 22.09) / 22.09) * 100 as IEEE doubles.
  assert.equal(((bot.state().stocks as PyDict).ZETA as PyDict).percent_change!.valueOf(), ((44.18 - 22.09) / 22.09) * 100);
  assert.equal(bot.call("update_stock_price('ZETA', 0)"), '{"error": "New price must be a positive value."}');
  assert.equal(bot.call("filter_stocks_by_price(['AAPL', 'ZETA', 'XXX'], 0, 300)"), '{"filtered_stocks": ["AAPL", "ZETA", "XXX"]}');
  assert.equal(bot.call("notify_price_change(['ZETA', 'AAPL'], 5)"), '{"notification": "Stocks ZETA have significant price changes."}');
  assert.equal(bot.call("add_to_watchlist('XXX')"), '{"symbol": ["NVDA"]}');
  assert.equal(bot.call("add_to_watchlist(stock='TSLA')"), '{"symbol": ["NVDA", "TSLA"]}');
  assert.equal(bot.call("get_symbol_by_name(name=['Apple'])"), "Error during execution: unhashable type: 'list'");
});

test("TradingBot: long-context mode changes the watch list, stock info, order details and sector lists", () => {
  const bot = session({ authenticated: true }, true);
  const watchlist = bot.call("get_watchlist()");
  assert.ok(watchlist.startsWith("['NVDA', 'JHGUN', "));
  assert.ok(watchlist.endsWith("'ZRFRE', Ellipsis]"));
  const info = JSON.parse(bot.call("get_stock_info('AAPL')"));
  assert.deepEqual(Object.keys(info), ["price", "percent_change", "volume", "MA(5)", "MA(20)"]);
  assert.equal(info["MA(5)"].length, 2000);
  const order = JSON.parse(bot.call("get_order_details(12446)"));
  assert.equal(Object.keys(order).at(-1), "metadata");
  assert.ok(order.metadata.company_overview.includes("GOOG is one of the most influential companies"));
  assert.ok(!JSON.stringify(order.metadata).includes("{symbol}"));
  assert.equal(JSON.parse(bot.call("get_available_stocks('Technology')")).stock_list.length, 1004);
  assert.equal(JSON.parse(bot.call("get_transaction_history()")).transaction_history.length, 1000);
  // The stored stock itself keeps its moving averages.
  assert.equal(((bot.state().stocks as PyDict).AAPL as PyDict)["MA(5)"], 227.11);
});
