// The pod's managed /etc/hosts: the kubelet's exact layout, which containers get it, and the file
// written under <root-dir>/pods/<uid>/etc-hosts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import {
  etcHostsPath, hostNetworkHostsFileContent, managedHostsFileContent, podHostnameAndDomain, shouldMountEtcHosts, writeEtcHostsFile,
} from '../../src/cri/runtime-manager/etc-hosts.ts';

const boilerplate = '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n'
  + 'fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n';

function pod(spec: Partial<NonNullable<V1Pod['spec']>> = {}, name = 'web'): V1Pod {
  return { metadata: { name, namespace: 'shop', uid: 'u-1' }, spec: { containers: [{ name: 'a' }], ...spec } };
}

const contentRows: Array<{ name: string; podIPs: string[]; hostname: string; domain: string; aliases?: Array<{ ip: string; hostnames: string[] }>; want: string }> = [
  { name: 'one IP, no subdomain', podIPs: ['10.88.0.5'], hostname: 'web', domain: '', want: `${boilerplate}10.88.0.5\tweb\n` },
  { name: 'dual stack: a line per IP', podIPs: ['10.88.0.5', 'fd00::5'], hostname: 'web', domain: '', want: `${boilerplate}10.88.0.5\tweb\nfd00::5\tweb\n` },
  { name: 'with a subdomain: the FQDN first', podIPs: ['10.88.0.5'], hostname: 'web', domain: 'sub.shop.svc.cluster.local', want: `${boilerplate}10.88.0.5\tweb.sub.shop.svc.cluster.local\tweb\n` },
  {
    name: 'hostAliases after their comment, one line per IP', podIPs: ['10.88.0.5'], hostname: 'web', domain: '',
    aliases: [{ ip: '127.0.0.1', hostnames: ['foo.local', 'bar.local'] }, { ip: '10.1.2.3', hostnames: ['foo.remote'] }],
    want: `${boilerplate}10.88.0.5\tweb\n\n# Entries added by HostAliases.\n127.0.0.1\tfoo.local\tbar.local\n10.1.2.3\tfoo.remote\n`,
  },
];
for (const row of contentRows) {
  test(`hosts file content: ${row.name}`, () => {
    assert.equal(managedHostsFileContent({ podIPs: row.podIPs, hostname: row.hostname, domain: row.domain, hostAliases: row.aliases ?? [] }), row.want);
  });
}

test('a hostNetwork pod\'s file is the node\'s, under its own header, with the pod\'s aliases', () => {
  assert.equal(hostNetworkHostsFileContent('127.0.0.1 localhost\n', [{ ip: '1.2.3.4', hostnames: ['x'] }]),
    '# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n\n# Entries added by HostAliases.\n1.2.3.4\tx\n');
});

test('hostname and domain: spec.hostname or the name, cut to 63 characters; a domain only with a subdomain', () => {
  assert.deepEqual(podHostnameAndDomain(pod()), { hostname: 'web', domain: '' });
  assert.deepEqual(podHostnameAndDomain(pod({ hostname: 'h', subdomain: 'sub' })), { hostname: 'h', domain: 'sub.shop.svc.cluster.local' });
  const long = `${'a'.repeat(61)}-.bbb`;
  assert.deepEqual(podHostnameAndDomain(pod({}, long)), { hostname: 'a'.repeat(61), domain: '' });
});

test('which containers get the file: not one that mounts its own /etc/hosts, not before the pod has an IP', () => {
  const plain: V1Container = { name: 'a' };
  const own: V1Container = { name: 'b', volumeMounts: [{ name: 'h', mountPath: '/etc/hosts' }] };
  assert.equal(shouldMountEtcHosts(pod(), plain, ['10.88.0.5']), true);
  assert.equal(shouldMountEtcHosts(pod(), own, ['10.88.0.5']), false);
  assert.equal(shouldMountEtcHosts(pod(), plain, []), false);
  assert.equal(shouldMountEtcHosts(pod({ hostNetwork: true }), plain, []), true);
});

test('the file is written under <root-dir>/pods/<uid>/etc-hosts, 0644, and rewritten with a new IP', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'etc-hosts-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const path = await writeEtcHostsFile(root, pod({ hostAliases: [{ ip: '1.2.3.4', hostnames: ['a', 'b'] }] }), ['10.88.0.5']);
  assert.equal(path, join(root, 'pods', 'u-1', 'etc-hosts'));
  assert.equal(path, etcHostsPath(root, 'u-1'));
  assert.equal(statSync(path).mode & 0o777, 0o644);
  assert.equal(readFileSync(path, 'utf8'), `${boilerplate}10.88.0.5\tweb\n\n# Entries added by HostAliases.\n1.2.3.4\ta\tb\n`);
  await writeEtcHostsFile(root, pod(), ['10.88.0.9']);
  assert.equal(readFileSync(path, 'utf8'), `${boilerplate}10.88.0.9\tweb\n`);

  const nodeHosts = join(root, 'node-hosts');
  writeFileSync(nodeHosts, '127.0.0.1 localhost\n10.0.0.1 node-a\n');
  await writeEtcHostsFile(root, pod({ hostNetwork: true }), [], nodeHosts);
  assert.equal(readFileSync(path, 'utf8'), '# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n10.0.0.1 node-a\n');
  await assert.rejects(writeEtcHostsFile(root, pod({ hostNetwork: true }), [], join(root, 'absent')), /node's hosts file .*absent/);
});
