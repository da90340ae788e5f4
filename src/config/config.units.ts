/**
 * Durations and sizes as harbor.yml writes them. Harbor hands durations to Go's time.ParseDuration
 * (`168h`, `5m0s`, `1.5h`, `300ms`) and log sizes to logrotate (`200M`, `100k`, `100`), so Berth accepts
 * exactly those spellings and converts them at the point of use.
 */

const DURATION_UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3, // U+00B5 MICRO SIGN, accepted by Go
  μs: 1e-3, // U+03BC GREEK SMALL LETTER MU, accepted by Go
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

// Go's grammar: [-+]? ( number unit )+ where number is `1`, `1.5`, `1.` or `.5`; a bare `0` is also valid.
// `ms` must precede `m` and `s` in the alternation, or `5ms` would read as 5 minutes and a stray `s`.
const DURATION_PART = '(\\d+\\.?\\d*|\\.\\d+)(ns|us|µs|μs|ms|s|m|h)';
const DURATION_RE = new RegExp(`^[-+]?(?:${DURATION_PART})+$`);
const DURATION_PART_RE = new RegExp(DURATION_PART, 'g');

/** True when `value` is a Go duration string, or the number 0 (YAML's `conn_max_idle_time: 0`). */
export function isDuration(value: unknown): value is string | number {
  if (typeof value === 'number') return value === 0;
  return (
    typeof value === 'string' &&
    (value === '0' || value === '+0' || value === '-0' || DURATION_RE.test(value))
  );
}

/**
 * Milliseconds in a Go duration (`168h` → 604800000, `5m0s` → 300000, `-1.5h` → -5400000).
 * A number is accepted only as 0, like Go, which refuses a number without a unit.
 */
export function parseDurationMs(value: string | number): number {
  if (!isDuration(value)) {
    throw new RangeError(
      `invalid duration ${JSON.stringify(value)}: expected Go syntax such as 30m, 5m0s or 168h`,
    );
  }
  if (typeof value === 'number') return 0;
  const sign = value.startsWith('-') ? -1 : 1;
  let total = 0;
  for (const match of value.matchAll(DURATION_PART_RE)) {
    const [, amount = '0', unit = 'ms'] = match;
    total += Number(amount) * (DURATION_UNIT_MS[unit] ?? 0);
  }
  return sign * total;
}

const SIZE_UNIT_BYTES: Readonly<Record<string, number>> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const SIZE_RE = /^(\d+)([kKmMgG]?)$/;

/** True when `value` is a logrotate size: bytes as a number or digits, or digits with k, M or G. */
export function isSize(value: unknown): value is string | number {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0;
  return typeof value === 'string' && SIZE_RE.test(value);
}

/** Bytes in a logrotate size; units are binary (`200M` → 209715200), as in logrotate. */
export function parseSizeBytes(value: string | number): number {
  if (!isSize(value)) {
    throw new RangeError(`invalid size ${JSON.stringify(value)}: expected bytes or a number with k, M or G`);
  }
  if (typeof value === 'number') return value;
  const match = SIZE_RE.exec(value);
  const amount = Number(match?.[1] ?? '0');
  const unit = (match?.[2] ?? '').toLowerCase();
  return amount * (SIZE_UNIT_BYTES[unit] ?? 1);
}
