import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHaConfig } from './ha-config.render.js';
import { parseTopologyText } from './ha-topology.load.js';
import { seedTopology } from './ha-topology.fixture.js';
import type { HaTopology } from './ha-topology.schema.js';

/**
 * The generated files as HAProxy and Keepalived themselves read them: `haproxy -c` and `keepalived -t`
 * (Debian packages haproxy and keepalived, which .ci/run installs). A test is skipped, saying why, only
 * when its binary is absent (or, for keepalived, when not run as root: its script-security check then
 * disables the track script, which says nothing about the file).
 */

/** A program on PATH or in the sbin directories (not on a normal user's PATH). */
function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  return dirs
    .filter((dir) => dir.startsWith('/'))
    .map((dir) => join(dir, name))
    .find((path) => existsSync(path));
}

const HAPROXY = findBinary('haproxy');
const KEEPALIVED = findBinary('keepalived');
const OPENSSL = findBinary('openssl');
const IS_ROOT = process.getuid?.() === 0;

/**
 * keepalived -t refuses an interface the machine does not have, so the check runs on one it has: the
 * first non-loopback Ethernet-type interface (the example's ens192 exists only on the seed's machines).
 */
function localInterface(): string | undefined {
  if (!existsSync('/sys/class/net')) return undefined;
  const names = readdirSync('/sys/class/net').filter((name) => name !== 'lo');
  const ethernet = names.filter((name) => readFileSync(`/sys/class/net/${name}/type`, 'utf8').trim() === '1');
  const up = ethernet.filter(
    (name) => readFileSync(`/sys/class/net/${name}/operstate`, 'utf8').trim() === 'up',
  );
  return up[0] ?? ethernet[0];
}
const INTERFACE = localInterface();

if (HAPROXY === undefined) {
  console.warn(
    'ha-config.tools.test: haproxy is not installed (apt-get install haproxy): skipping `haproxy -c`',
  );
}
if (HAPROXY !== undefined && OPENSSL === undefined) {
  console.warn('ha-config.tools.test: openssl is not installed: skipping `haproxy -c` of the TLS variants');
}
if (KEEPALIVED === undefined || !IS_ROOT || INTERFACE === undefined) {
  console.warn(
    `ha-config.tools.test: skipping \`keepalived -t\`: ${
      KEEPALIVED === undefined
        ? 'keepalived is not installed (apt-get install keepalived)'
        : !IS_ROOT
          ? 'not running as root'
          : 'no non-loopback network interface'
    }`,
  );
}

let dir: string;
let certificate: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-ha-config-'));
  certificate = join(dir, 'cert.pem');
  if (OPENSSL !== undefined) {
    // `haproxy -c` loads the PEM named by `crt`: give it a real one (self-signed, throwaway, one file
    // holding the certificate and its key, as HAProxy wants).
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'crt.pem');
    const made = spawnSync(
      OPENSSL,
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=registry.example.com',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { encoding: 'utf8' },
    );
    expect(made.status, made.stderr).toBe(0);
    await writeFile(certificate, `${readFileSync(cert, 'utf8')}${readFileSync(key, 'utf8')}`);
  }
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Variant {
  name: string;
  topology: () => HaTopology;
  needsCertificate: boolean;
}

const EXAMPLE = new URL('../../deploy/ha/topology.example.yml', import.meta.url);

const variants: Variant[] = [
  {
    name: 'the example topology (TLS, active-active, stats, unicast)',
    topology: () => {
      const text = readFileSync(EXAMPLE, 'utf8')
        .replace('/etc/haproxy/cert.pem', certificate)
        .replace('interface: ens192', `interface: ${INTERFACE ?? 'eth0'}`);
      return parseTopologyText(text, 'topology.example.yml');
    },
    needsCertificate: true,
  },
  {
    name: 'active-passive over three instances, plain HTTP, stats with credentials, multicast, nopreempt',
    topology: () =>
      seedTopology((d) => {
        d.vip.interface = INTERFACE ?? 'eth0';
        d.mode = 'active-passive';
        d.primary = 'berth2';
        d.instances.push({ name: 'berth3', address: 'localhost:5001' });
        d.instances.push({ name: 'berth4', address: '[::1]:5002' });
        d.stats = { port: 7000, username: 'ops', password: 'pa%%w0rd' };
        d.vrrp = { unicast: false, nopreempt: true, check: { interval: 2, fall: 3, rise: 1 } };
      }),
    needsCertificate: false,
  },
  {
    name: 'three balancers, TLS on custom ports with a redirect, roundrobin, preempt_delay',
    topology: () =>
      seedTopology((d) => {
        d.vip.interface = INTERFACE ?? 'eth0';
        d.load_balancers.push({ name: 'lb3', address: '192.168.10.103', priority: 99 });
        d.balance = 'roundrobin';
        d.tls = { certificate };
        d.ports = { http: 8080, https: 8443, health: 9404 };
        d.vrrp = { preempt_delay: 5, advert_int: 2 };
      }),
    needsCertificate: true,
  },
];

async function writeVariant(index: number, topology: HaTopology) {
  const files = renderHaConfig(topology, `variant-${index}.yml`);
  const out = await mkdtemp(join(dir, `variant-${index}-`));
  for (const file of files) await writeFile(join(out, file.name), file.content);
  return files.map((file) => ({ name: file.name, path: join(out, file.name) }));
}

function run(binary: string, args: string[]) {
  const result = spawnSync(binary, args, { encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, signal: result.signal, output: `${result.stdout}${result.stderr}` };
}

describe.skipIf(HAPROXY === undefined)('haproxy -c accepts the generated haproxy.cfg', () => {
  variants.forEach((variant, index) => {
    it.skipIf(variant.needsCertificate && OPENSSL === undefined)(variant.name, async () => {
      const files = await writeVariant(index, variant.topology());
      const configs = files.filter((file) => file.name.startsWith('haproxy'));
      expect(configs.length).toBeGreaterThan(0);
      for (const config of configs) {
        const result = run(HAPROXY ?? 'haproxy', ['-c', '-f', config.path]);
        expect(result.output, config.name).toContain('Configuration file is valid');
        expect(result.output, config.name).not.toMatch(/\[(WARNING|ALERT)\]/);
        expect(result.status, `${config.name}: ${result.output}`).toBe(0);
      }
    });
  });

  it('and refuses a broken one (the check above can fail)', async () => {
    const [config] = (await writeVariant(90, variants[1]?.topology() ?? seedTopology())).filter((file) =>
      file.name.startsWith('haproxy'),
    );
    if (config === undefined) throw new Error('no haproxy config rendered');
    await writeFile(config.path, `${readFileSync(config.path, 'utf8')}    balance nosuchalgorithm\n`);
    const result = run(HAPROXY ?? 'haproxy', ['-c', '-f', config.path]);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/balance only supports/);
  });
});

describe.skipIf(KEEPALIVED === undefined || !IS_ROOT || INTERFACE === undefined)(
  `keepalived -t accepts the generated keepalived.conf (interface ${INTERFACE ?? 'none'})`,
  () => {
    variants.forEach((variant, index) => {
      it(variant.name, async () => {
        const files = await writeVariant(10 + index, variant.topology());
        const configs = files.filter((file) => file.name.startsWith('keepalived-'));
        expect(configs.length).toBe(variant.topology().load_balancers.length);
        for (const config of configs) {
          const result = run(KEEPALIVED ?? 'keepalived', ['-t', '-f', config.path]);
          // keepalived -t prints nothing for a good file; warnings (a cut auth_pass, a disabled script)
          // come with status 0, so they are failures here too.
          expect(result.output, config.name).toBe('');
          expect(result.signal, config.name).toBeNull();
          expect(result.status, config.name).toBe(0);
        }
      });
    });

    it('and refuses a broken one (the check above can fail)', async () => {
      const [config] = (await writeVariant(91, variants[1]?.topology() ?? seedTopology())).filter((file) =>
        file.name.startsWith('keepalived-'),
      );
      if (config === undefined) throw new Error('no keepalived config rendered');
      const broken = readFileSync(config.path, 'utf8').replace(
        'virtual_router_id 20',
        'virtual_router_id 300',
      );
      await writeFile(config.path, broken);
      const result = run(KEEPALIVED ?? 'keepalived', ['-t', '-f', config.path]);
      expect(result.status).not.toBe(0);
      expect(result.output).toMatch(/300/);
    });
  },
);
