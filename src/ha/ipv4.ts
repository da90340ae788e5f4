/**
 * IPv4 arithmetic for the topology checks: VRRP (v2, which keepalived's PASS authentication needs) moves
 * IPv4 addresses only, and the checks compare addresses and subnets, which strings cannot do.
 */

/** Dotted quad, four decimal octets without leading zeros (`010` reads as octal in some tools). */
const DOTTED_QUAD = /^(?:0|[1-9]\d{0,2})(?:\.(?:0|[1-9]\d{0,2})){3}$/;

/** The address as an unsigned 32-bit number, or undefined when it is not a dotted quad. */
export function parseIpv4(text: string): number | undefined {
  if (!DOTTED_QUAD.test(text)) return undefined;
  let value = 0;
  for (const part of text.split('.')) {
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function isIpv4(text: string): boolean {
  return parseIpv4(text) !== undefined;
}

interface Range {
  base: string;
  prefix: number;
  name: string;
}

/** RFC 1918 private ranges: where a VIP on a LAN or a cloud VPC lives. */
const PRIVATE_RANGES: readonly Range[] = [
  { base: '10.0.0.0', prefix: 8, name: '10.0.0.0/8' },
  { base: '172.16.0.0', prefix: 12, name: '172.16.0.0/12' },
  { base: '192.168.0.0', prefix: 16, name: '192.168.0.0/16' },
];

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Whether two addresses share the first `prefix` bits. */
export function sameSubnet(a: number, b: number, prefix: number): boolean {
  const m = mask(prefix);
  return (a & m) >>> 0 === (b & m) >>> 0;
}

export function isPrivateIpv4(address: number): boolean {
  return PRIVATE_RANGES.some((range) => sameSubnet(address, parseIpv4(range.base) ?? 0, range.prefix));
}

export const PRIVATE_RANGE_NAMES = PRIVATE_RANGES.map((range) => range.name).join(', ');

/** `192.168.10.0/24` for an address and a prefix length. */
export function subnetOf(address: number, prefix: number): string {
  return `${formatIpv4((address & mask(prefix)) >>> 0)}/${prefix}`;
}

/** The network or the broadcast address of its subnet: neither can be assigned to an interface. */
export function isNetworkOrBroadcast(address: number, prefix: number): boolean {
  if (prefix >= 31) return false; // RFC 3021 point-to-point links use both addresses
  const m = mask(prefix);
  const host = (address & ~m) >>> 0;
  return host === 0 || host === ~m >>> 0;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}
