// The part of Python's `datetime.strptime` the BFCL backends use (%Y %m %d %H %I %M %S %p), with the same
// regular expressions, the same leniency (one-digit fields, whitespace runs, any case for AM/PM) and the same
// ValueError messages, since a failed parse surfaces as "Error during execution: <message>".
import { BfclCallError } from "./types.js";
import { describePyType, type PyValue } from "../python/value.js";
import { pyStringRepr } from "../python/repr.js";
import { PyValueError } from "./python-ops.js";

// Lib/_strptime.py's patterns for these directives.
const DIRECTIVES: Record<string, string> = {
  Y: "(?<Y>\\d\\d\\d\\d)",
  m: "(?<m>1[0-2]|0[1-9]|[1-9])",
  d: "(?<d>3[01]|[12]\\d|0[1-9]|[1-9]| [1-9])",
  H: "(?<H>2[0-3]|[0-1]\\d|\\d)",
  I: "(?<I>1[0-2]|0[1-9]|[1-9])",
  M: "(?<M>[0-5]\\d|\\d)",
  S: "(?<S>6[0-1]|[0-5]\\d|\\d)",
  p: "(?<p>am|pm)",
};

export interface PyDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const compiled = new Map<string, RegExp>();

function compile(format: string): RegExp {
  let regex = compiled.get(format);
  if (regex) return regex;
  let source = "";
  for (let i = 0; i < format.length; i++) {
    const char = format[i]!;
    if (char === "%" && i + 1 < format.length) {
      const pattern = DIRECTIVES[format[i + 1]!];
      if (!pattern) throw new Error(`unsupported strptime directive %${format[i + 1]}`);
      source += pattern;
      i++;
    } else if (/\s/.test(char)) {
      source += "\\s+";
      while (i + 1 < format.length && /\s/.test(format[i + 1]!)) i++;
    } else {
      source += char.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    }
  }
  regex = new RegExp(source, "iy");
  compiled.set(format, regex);
  return regex;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeap(year) ? 29 : MONTH_DAYS[month - 1]!;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** `datetime.strptime(text, format)`; raises BfclCallError with Python's ValueError message. */
export function strptime(text: PyValue | undefined, format: string): PyDateTime {
  if (typeof text !== "string") throw new BfclCallError(`strptime() argument 1 must be str, not ${text === null || text === undefined ? "None" : describePyType(text)}`);
  const regex = compile(format);
  regex.lastIndex = 0;
  const found = regex.exec(text);
  if (!found) throw new PyValueError(`time data ${pyStringRepr(text)} does not match format ${pyStringRepr(format)}`);
  if (found[0].length !== text.length) throw new PyValueError(`unconverted data remains: ${text.slice(found[0].length)}`);
  const groups = found.groups ?? {};
  const field = (name: string, fallback: number) => (groups[name] === undefined ? fallback : Number(groups[name]));
  let hour = field("H", 0);
  if (groups.I !== undefined) {
    hour = Number(groups.I);
    // As _strptime: without %p, or with AM, 12 means midnight.
    if ((groups.p ?? "").toLowerCase() === "pm") hour = hour === 12 ? 12 : hour + 12;
    else if (hour === 12) hour = 0;
  }
  const value: PyDateTime = {
    year: field("Y", 1900),
    month: field("m", 1),
    day: field("d", 1),
    hour,
    minute: field("M", 0),
    second: field("S", 0),
  };
  if (value.year < 1) throw new PyValueError(`year ${value.year} is out of range`);
  if (value.day > daysInMonth(value.year, value.month)) throw new PyValueError("day is out of range for month");
  if (value.second > 59) throw new PyValueError("second must be in 0..59");
  return value;
}

/** A number that orders datetimes as Python compares them. */
export function dateTimeOrder(value: PyDateTime): number {
  return ((((value.year * 13 + value.month) * 32 + value.day) * 24 + value.hour) * 60 + value.minute) * 60 + value.second;
}
