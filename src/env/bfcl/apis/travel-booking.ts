// Placeholder until the TravelAPI backend lands; its author replaces this whole file.
import type { BfclApiClass } from "./types.js";

export const TravelAPI: BfclApiClass = {
  className: "TravelAPI",
  docFile: "travel_booking",
  create() {
    throw new Error("TravelAPI is not implemented yet");
  },
};
