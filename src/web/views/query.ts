// Query parameters as forms send them: an empty field means "not given".
import { z } from "zod";

const blankToUndefined = (value: unknown) => (value === "" ? undefined : value);

export const optionalInt = (min: number, max = Number.MAX_SAFE_INTEGER) => z.preprocess(blankToUndefined, z.coerce.number().int().min(min).max(max).optional());
export const optionalText = (max = 200) => z.preprocess(blankToUndefined, z.string().max(max).optional());
export const pageNumber = z.preprocess(blankToUndefined, z.coerce.number().int().min(1).max(1_000_000).default(1));
export const optionalEnum = <const T extends readonly [string, ...string[]]>(values: T) => z.preprocess(blankToUndefined, z.enum(values).optional());

export const PAGE_SIZE = 50;

export function pageCount(total: number): number {
  return Math.max(1, Math.ceil(total / PAGE_SIZE));
}
