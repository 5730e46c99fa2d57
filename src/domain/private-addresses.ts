import net from 'node:net';

/**
 * The addresses the service refuses to reach on behalf of someone else (a run's WebFetch, an
 * agent's MCP servers and allowed domains, a webhook's URL) unless the operator opts in:
 * loopback, private, link-local (the cloud metadata service, 169.254.169.254), shared, reserved,
 * documentation and multicast ranges: anything that is not a public unicast address.
 */
const IPV4_RANGES: [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
// IPv4-mapped addresses (::ffff:a.b.c.d) are checked against the IPv4 ranges by BlockList itself;
// NAT64 and 6to4 embed an IPv4 address that could be any of them.
const IPV6_RANGES: [string, number][] = [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
];
const blocked = new net.BlockList();
for (const [prefix, bits] of IPV4_RANGES) blocked.addSubnet(prefix, bits, 'ipv4');
for (const [prefix, bits] of IPV6_RANGES) blocked.addSubnet(prefix, bits, 'ipv6');

/** Whether an IP address is loopback, private, link-local or otherwise not a public unicast address. */
export function isPrivateAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 0) return false;
  return blocked.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
