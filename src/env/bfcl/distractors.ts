// Generated distractor APIs: a large action space to test tool retrieval on, while the task and its grading stay
// BFCL's. Each is a plausible function of a made-up API family (a verb, an object of the family, a qualifier), with a
// BFCL-style description ("This tool belongs to the X API, which ... Tool description: ...") and parameters that fit
// the verb. Some families sit close to BFCL's own (email and chat near messaging, a brokerage near trading, car
// rental near vehicle control), so retrieval has near misses to tell apart. The same seed gives the same tools; a
// distractor is never named like a real tool. Calling one gets the executor's "not defined" error, as in BFCL.
import { sampleSeeded } from "../../core/random.js";
import type { ToolSchema } from "../../core/messages.js";

interface Family {
  api: string;
  purpose: string;
  /** Singular objects, snake_case. */
  objects: string[];
}

const FAMILIES: Family[] = [
  { api: "Calendar", purpose: "manages meetings, events and reminders", objects: ["event", "meeting", "reminder", "invitation", "availability_slot"] },
  { api: "Email", purpose: "sends, receives and organizes email", objects: ["email", "draft", "mail_folder", "attachment", "mail_contact"] },
  { api: "Cloud Storage", purpose: "stores and shares documents in the cloud", objects: ["document", "shared_folder", "share_link", "storage_quota", "file_version"] },
  { api: "Inventory", purpose: "tracks stock across warehouses", objects: ["item", "stock_level", "warehouse", "supplier", "reorder_rule"] },
  { api: "CRM", purpose: "manages customers and sales", objects: ["customer", "lead", "deal", "account_note", "pipeline"] },
  { api: "Payments", purpose: "processes card payments and refunds", objects: ["payment", "refund", "invoice", "payout", "card"] },
  { api: "Weather", purpose: "reports forecasts and weather alerts", objects: ["forecast", "weather_alert", "weather_station", "observation"] },
  { api: "Maps", purpose: "finds places and plans routes", objects: ["route", "place", "geocode", "travel_distance", "traffic_report"] },
  { api: "Music", purpose: "plays and organizes music", objects: ["playlist", "track", "album", "artist"] },
  { api: "Food Delivery", purpose: "orders food from restaurants", objects: ["food_order", "restaurant", "menu_item", "courier"] },
  { api: "Fitness", purpose: "records workouts and health goals", objects: ["workout", "step_count", "heart_rate", "fitness_goal"] },
  { api: "HR", purpose: "manages employees, leave and payroll", objects: ["employee", "leave_request", "payslip", "performance_review"] },
  { api: "Banking", purpose: "manages bank accounts and transfers", objects: ["bank_account", "transfer", "bank_statement", "balance", "beneficiary"] },
  { api: "Brokerage", purpose: "trades securities for investors", objects: ["portfolio", "trade", "quote", "limit_order", "dividend"] },
  { api: "Crypto Exchange", purpose: "trades digital currencies", objects: ["wallet", "crypto_trade", "coin_price", "order_book"] },
  { api: "Hotel Booking", purpose: "books hotel rooms", objects: ["hotel_reservation", "room", "guest", "amenity"] },
  { api: "Car Rental", purpose: "rents cars and manages rentals", objects: ["rental", "rental_car", "pickup_location", "rental_insurance"] },
  { api: "Smart Home", purpose: "controls home devices", objects: ["thermostat", "light", "door_lock", "security_camera", "scene"] },
  { api: "Helpdesk", purpose: "handles customer support cases", objects: ["support_case", "support_agent", "escalation", "case_comment"] },
  { api: "Team Chat", purpose: "sends messages in team channels", objects: ["channel", "chat_message", "thread", "reaction", "channel_member"] },
  { api: "Blog", purpose: "publishes posts and manages comments", objects: ["blog_post", "blog_comment", "tag", "author"] },
  { api: "Statistics", purpose: "computes statistics over datasets", objects: ["dataset", "mean", "regression", "histogram", "percentile"] },
  { api: "Translation", purpose: "translates text between languages", objects: ["translation", "language", "glossary"] },
  { api: "News", purpose: "finds news articles", objects: ["article", "headline", "news_source", "topic"] },
  { api: "Shipping", purpose: "ships parcels and tracks them", objects: ["shipment", "shipping_label", "tracking_number", "parcel"] },
  { api: "Parking", purpose: "finds and pays for parking", objects: ["parking_spot", "parking_permit", "parking_session", "parking_fine"] },
  { api: "Library", purpose: "lends books to members", objects: ["book", "loan", "hold", "library_member"] },
  { api: "Healthcare", purpose: "manages patients and appointments", objects: ["appointment", "prescription", "patient", "lab_result"] },
  { api: "Education", purpose: "runs courses and grades", objects: ["course", "assignment", "grade", "student"] },
  { api: "Recipes", purpose: "finds recipes and plans meals", objects: ["recipe", "ingredient", "meal_plan"] },
  { api: "Photos", purpose: "stores and edits photos", objects: ["photo", "photo_album", "photo_tag", "photo_filter"] },
  { api: "Video Streaming", purpose: "streams videos and series", objects: ["video", "subscription", "watchlist", "episode"] },
  { api: "Insurance", purpose: "sells policies and handles claims", objects: ["policy", "claim", "insurance_quote", "premium"] },
  { api: "Real Estate", purpose: "lists homes for sale and rent", objects: ["listing", "viewing", "purchase_offer", "mortgage_quote"] },
  { api: "Energy", purpose: "reports home energy use", objects: ["meter_reading", "tariff", "energy_usage", "outage"] },
  { api: "Project Management", purpose: "plans projects and tasks", objects: ["project_task", "project", "milestone", "sprint"] },
  { api: "Code Hosting", purpose: "hosts code repositories", objects: ["repository", "branch", "pull_request", "commit"] },
  { api: "Surveys", purpose: "runs surveys and collects answers", objects: ["survey", "survey_question", "survey_response"] },
  { api: "Ride Sharing", purpose: "books rides with drivers", objects: ["ride", "driver", "fare", "pickup"] },
  { api: "Airline", purpose: "reports flight status and baggage", objects: ["flight_status", "gate", "delay", "baggage"] },
];

interface Verb {
  name: string;
  phrase: string;
  params: (object: string) => Record<string, { type: string; description: string }>;
  required: (object: string) => string[];
}

const words = (snake: string) => snake.replace(/_/g, " ");
const idParam = (object: string) => ({ [`${object}_id`]: { type: "string", description: `The id of the ${words(object)}.` } });

const VERBS: Verb[] = [
  { name: "get", phrase: "Retrieve the", params: idParam, required: (o) => [`${o}_id`] },
  { name: "list", phrase: "List every", params: () => ({ limit: { type: "integer", description: "The most results to return." } }), required: () => [] },
  { name: "create", phrase: "Create a new", params: (o) => ({ name: { type: "string", description: `The name of the ${words(o)}.` }, details: { type: "object", description: "Further fields." } }), required: () => ["name"] },
  { name: "update", phrase: "Update the", params: (o) => ({ ...idParam(o), changes: { type: "object", description: "The fields to change." } }), required: (o) => [`${o}_id`, "changes"] },
  { name: "delete", phrase: "Delete the", params: idParam, required: (o) => [`${o}_id`] },
  { name: "search", phrase: "Search for a", params: () => ({ query: { type: "string", description: "Words to look for." }, limit: { type: "integer", description: "The most results." } }), required: () => ["query"] },
  { name: "cancel", phrase: "Cancel the", params: (o) => ({ ...idParam(o), reason: { type: "string", description: "Why it is cancelled." } }), required: (o) => [`${o}_id`] },
  { name: "schedule", phrase: "Schedule a", params: (o) => ({ ...idParam(o), time: { type: "string", description: "When, as YYYY-MM-DD HH:MM." } }), required: (o) => [`${o}_id`, "time"] },
  { name: "archive", phrase: "Archive the", params: idParam, required: (o) => [`${o}_id`] },
  { name: "export", phrase: "Export the", params: (o) => ({ ...idParam(o), format: { type: "string", description: "csv, json or pdf." } }), required: (o) => [`${o}_id`] },
  { name: "share", phrase: "Share the", params: (o) => ({ ...idParam(o), recipient: { type: "string", description: "Who receives it." } }), required: (o) => [`${o}_id`, "recipient"] },
  { name: "validate", phrase: "Check the", params: idParam, required: (o) => [`${o}_id`] },
  { name: "estimate", phrase: "Estimate the cost of a", params: (o) => ({ ...idParam(o), quantity: { type: "number", description: "How many." } }), required: (o) => [`${o}_id`] },
  { name: "sync", phrase: "Synchronize the", params: idParam, required: (o) => [`${o}_id`] },
  { name: "approve", phrase: "Approve the", params: (o) => ({ ...idParam(o), approver: { type: "string", description: "Who approves." } }), required: (o) => [`${o}_id`] },
  { name: "assign", phrase: "Assign the", params: (o) => ({ ...idParam(o), assignee: { type: "string", description: "Who it goes to." } }), required: (o) => [`${o}_id`, "assignee"] },
  { name: "count", phrase: "Count the", params: () => ({ filter: { type: "string", description: "Which to count." } }), required: () => [] },
  { name: "compare", phrase: "Compare two of the", params: (o) => ({ first_id: { type: "string", description: `The first ${words(o)}.` }, second_id: { type: "string", description: `The second ${words(o)}.` } }), required: () => ["first_id", "second_id"] },
  { name: "restore", phrase: "Restore a deleted", params: idParam, required: (o) => [`${o}_id`] },
  { name: "subscribe", phrase: "Subscribe to changes of the", params: (o) => ({ ...idParam(o), webhook_url: { type: "string", description: "Where to send notices." } }), required: (o) => [`${o}_id`] },
];

const QUALIFIERS: { suffix: string; phrase: string }[] = [
  { suffix: "", phrase: "" },
  { suffix: "_details", phrase: " with all its details" },
  { suffix: "_history", phrase: ", with its change history" },
  { suffix: "_summary", phrase: ", as a short summary" },
  { suffix: "_batch", phrase: ", several at once" },
  { suffix: "_by_date", phrase: " within a date range" },
];

/** How many different distractors there are. */
export const DISTRACTOR_POOL_SIZE = FAMILIES.reduce((sum, family) => sum + family.objects.length, 0) * VERBS.length * QUALIFIERS.length;

/** `count` distractor tools picked by `seed`, none named as one of `reserved`. */
export function generateDistractorTools(count: number, seed: number, reserved: ReadonlySet<string> = new Set()): ToolSchema[] {
  const pool: { family: Family; object: string; verb: Verb; qualifier: (typeof QUALIFIERS)[number] }[] = [];
  for (const family of FAMILIES) {
    for (const object of family.objects) {
      for (const verb of VERBS) for (const qualifier of QUALIFIERS) pool.push({ family, object, verb, qualifier });
    }
  }
  const usable = pool.filter(({ object, verb, qualifier }) => !reserved.has(`${verb.name}_${object}${qualifier.suffix}`));
  if (count > usable.length) throw new RangeError(`at most ${usable.length} distractor tools can be generated, asked for ${count}`);
  return sampleSeeded(usable, count, seed).map(({ family, object, verb, qualifier }) => {
    const name = `${verb.name}_${object}${qualifier.suffix}`;
    const properties = verb.params(object);
    return {
      type: "function",
      function: {
        name,
        description: `This tool belongs to the ${family.api} API, which ${family.purpose}. Tool description: ${verb.phrase} ${words(object)}${qualifier.phrase}.`,
        parameters: { type: "object", properties, required: verb.required(object) },
      },
    };
  });
}
