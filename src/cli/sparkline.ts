// A series as one line of block characters, for terminals: each character is the mean of its share of the values,
// scaled between the series' min and max (a flat series is a flat line).
const BLOCKS = "▁▂▃▄▅▆▇█";

export function sparkline(values: readonly number[], width = 40): string {
  if (values.length === 0) return "";
  const buckets = Math.min(width, values.length);
  const means: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * values.length) / buckets);
    const to = Math.floor(((b + 1) * values.length) / buckets);
    const share = values.slice(from, to);
    means.push(share.reduce((a, v) => a + v, 0) / share.length);
  }
  const min = Math.min(...means);
  const max = Math.max(...means);
  return means.map((v) => BLOCKS[max === min ? 0 : Math.round(((v - min) / (max - min)) * (BLOCKS.length - 1))]).join("");
}
