export { EvolveConfig, loadConfig, parseConfig, applyOverrides } from "./config.js";
