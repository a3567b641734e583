export * from "./trajectory.js";
