// The table of BFCL backend classes, by Python class name. An entry's `involved_classes` picks from it; a class
// is never found by building an import path from a string.
import type { BfclApiClass } from "./types.js";
import { GorillaFileSystem } from "./gorilla-file-system.js";
import { MathAPI } from "./math-api.js";
import { MessageAPI } from "./message-api.js";
import { TwitterAPI } from "./posting-api.js";
import { TicketAPI } from "./ticket-api.js";
import { TradingBot } from "./trading-bot.js";
import { TravelAPI } from "./travel-booking.js";
import { VehicleControlAPI } from "./vehicle-control.js";

export const BFCL_API_CLASSES: Readonly<Record<string, BfclApiClass>> = Object.freeze({
  GorillaFileSystem,
  MathAPI,
  MessageAPI,
  TwitterAPI,
  TicketAPI,
  TradingBot,
  TravelAPI,
  VehicleControlAPI,
});

/** BFCL's STATELESS_CLASSES: instantiated without loading a scenario. */
export const BFCL_STATELESS_CLASSES: ReadonlySet<string> = new Set(["MathAPI"]);

export type { BfclApi, BfclApiClass, BfclMethod, BfclParam } from "./types.js";
export { BfclCallError } from "./types.js";
