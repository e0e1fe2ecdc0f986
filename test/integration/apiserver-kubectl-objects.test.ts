// Services, PodTemplates, RuntimeClass admission, ConfigMap/Secret keys, sysctls and pods/status
// through the machine's real kubectl against the dev control plane: what kubectl prints is what
// it prints against kube-apiserver.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/index.ts';

const kubectlPath = '/usr/bin/kubectl';

interface Run { code: number; stdout: string; stderr: string }

let server: RunningApiServer;
let dir: string;

function kubectl(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(kubectlPath, args, { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: join(dir, 'kubeconfig') }, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function kubectlOk(...args: string[]): Promise<string> {
  const r = await kubectl(...args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** kubectl apply of a manifest; resolves with the run, whatever its outcome. */
async function apply(name: string, manifest: string): Promise<Run> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, manifest);
  return kubectl('apply', '-f', file);
}

const columns = (line: string) => line.trim().split(/\s{2,}/);

describe('objects kube-apiserver checks, driven by kubectl', { timeout: 120_000 }, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apiserver-kubectl-objects-'));
    server = await startApiServer({ port: 0, binder: false, kubeconfigOut: join(dir, 'kubeconfig'), logger: pino({ level: 'silent' }) });
  });

  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('get svc shows the kubernetes Service with kube\'s columns; its target is the server\'s port', async () => {
    const [header, row] = (await kubectlOk('get', 'svc')).trimEnd().split('\n');
    assert.deepEqual(columns(header!), ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
    assert.deepEqual(columns(row!).slice(0, 5), ['kubernetes', 'ClusterIP', '10.96.0.1', '<none>', '443/TCP']);
    const svc = JSON.parse(await kubectlOk('get', 'service', 'kubernetes', '-o', 'json'));
    assert.deepEqual(svc.spec.ports, [{ name: 'https', port: 443, protocol: 'TCP', targetPort: Number(new URL(server.url).port) }]);
  });

  test('kubectl create service nodeport: a cluster IP, a node port, and the wide SELECTOR column', async () => {
    await kubectlOk('create', 'service', 'nodeport', 'web', '--tcp=80:8080');
    const [header, row] = (await kubectlOk('get', 'svc', 'web', '-o', 'wide')).trimEnd().split('\n');
    assert.deepEqual(columns(header!), ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR']);
    const [name, type, ip, external, ports, , selector] = columns(row!);
    assert.deepEqual([name, type, external, selector], ['web', 'NodePort', '<none>', 'app=web']);
    assert.match(ip!, /^10\.(9[6-9]|10\d|11[01])\.\d+\.\d+$/);
    assert.match(ports!, /^80:3\d{4}\/TCP$/);
  });

  test('a Service\'s cluster IP may not change; ports are checked with kube\'s texts', async () => {
    const manifest = (clusterIP: string) => `apiVersion: v1
kind: Service
metadata:
  name: fixed
spec:
  ${clusterIP ? `clusterIP: ${clusterIP}` : 'selector: {app: fixed}'}
  ports:
  - port: 80
`;
    assert.equal((await apply('fixed', manifest(''))).code, 0);
    const moved = await apply('fixed', manifest('10.96.0.99'));
    assert.notEqual(moved.code, 0);
    assert.match(moved.stderr, /The Service "fixed" is invalid: spec.clusterIPs\[0\]: Invalid value: \[\]string\{"10.96.0.99"\}: may not change once set/);
    const noPorts = await apply('noports', 'apiVersion: v1\nkind: Service\nmetadata:\n  name: noports\nspec:\n  selector: {app: x}\n');
    assert.notEqual(noPorts.code, 0);
    assert.match(noPorts.stderr, /Service "noports" is invalid: spec.ports: Required value/);
  });

  test('kubectl apply of a changed port keeps the other ports (ports merge by port) and the allocated node ports', async () => {
    const manifest = (target: number) => `apiVersion: v1
kind: Service
metadata:
  name: two-ports
spec:
  type: NodePort
  selector: {app: two}
  ports:
  - {name: http, port: 80, targetPort: ${target}}
  - {name: https, port: 443, targetPort: 8443}
`;
    assert.equal((await apply('two-ports', manifest(8080))).code, 0);
    const before = JSON.parse(await kubectlOk('get', 'svc', 'two-ports', '-o', 'json'));
    const changed = await apply('two-ports', manifest(9090));
    assert.equal(changed.code, 0, changed.stderr);
    const after = JSON.parse(await kubectlOk('get', 'svc', 'two-ports', '-o', 'json'));
    assert.deepEqual(after.spec.ports.map((p: any) => [p.name, p.port, p.targetPort, p.nodePort]),
      [['http', 80, 9090, before.spec.ports[0].nodePort], ['https', 443, 8443, before.spec.ports[1].nodePort]]);
    assert.equal(after.spec.clusterIP, before.spec.clusterIP);
  });

  test('a pod naming a RuntimeClass that does not exist is refused (403), one that exists adds its overhead', async () => {
    const pod = (name: string, runtimeClass: string) =>
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  runtimeClassName: ${runtimeClass}\n  containers:\n  - name: app\n    image: busybox:1.36\n`;
    const refused = await apply('rc-missing', pod('rc-missing', 'no-such-class'));
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Error from server \(Forbidden\): error when creating ".*rc-missing.yaml": pods "rc-missing" is forbidden: pod rejected: RuntimeClass "no-such-class" not found/);
    assert.equal((await kubectl('get', 'pod', 'rc-missing')).code, 1, 'no pod was made');
    assert.equal((await apply('rc', 'apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata:\n  name: sandboxed\nhandler: runc\noverhead:\n  podFixed:\n    cpu: 100m\n')).code, 0);
    assert.equal((await apply('rc-ok', pod('rc-ok', 'sandboxed'))).code, 0);
    assert.deepEqual(JSON.parse(await kubectlOk('get', 'pod', 'rc-ok', '-o', 'jsonpath={.spec.overhead}')), { cpu: '100m' });
  });

  test('ConfigMap and Secret keys, and a TLS Secret\'s keys, are checked as kube does', async () => {
    const cm = await apply('cm', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: badkey\ndata:\n  "a b": "1"\n');
    assert.notEqual(cm.code, 0);
    assert.match(cm.stderr, /ConfigMap "badkey" is invalid: data\[a b\]: Invalid value: "a b": a valid config key must consist of alphanumeric characters, '-', '_' or '\.' \(e\.g\. 'key\.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '\[-\._a-zA-Z0-9\]\+'\)/);
    const tls = await apply('tls', 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls\ntype: kubernetes.io/tls\nstringData:\n  tls.crt: cert\n');
    assert.notEqual(tls.code, 0);
    assert.match(tls.stderr, /Secret "tls" is invalid: data\[tls\.key\]: Required value/);
    await kubectlOk('create', 'secret', 'generic', 'plain', '--from-literal=a=b');
    const retyped = await kubectl('patch', 'secret', 'plain', '--type=merge', '-p', '{"type":"example.com/other"}');
    assert.notEqual(retyped.code, 0);
    assert.match(retyped.stderr, /The Secret "plain" is invalid: type: Invalid value: "example.com\/other": field is immutable/);
  });

  test('a pod with a malformed sysctl name is refused', async () => {
    const refused = await apply('sysctl', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: sysctl\nspec:\n  securityContext:\n    sysctls:\n    - name: Net.Core\n      value: "1"\n  containers:\n  - name: app\n    image: busybox:1.36\n');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Pod "sysctl" is invalid: spec.securityContext.sysctls\[0\].name: Invalid value: "Net.Core": must have at most 253 characters and match regex/);
  });

  test('a PodTemplate: its pod spec defaulted, its table as kubectl prints it', async () => {
    assert.equal((await apply('pt', 'apiVersion: v1\nkind: PodTemplate\nmetadata:\n  name: pt\ntemplate:\n  metadata:\n    labels: {app: pt}\n  spec:\n    containers:\n    - name: app\n      image: busybox:1.36\n')).code, 0);
    const pt = JSON.parse(await kubectlOk('get', 'podtemplate', 'pt', '-o', 'json'));
    assert.equal(pt.template.spec.restartPolicy, 'Always');
    assert.equal(pt.template.spec.containers[0].terminationMessagePolicy, 'File');
    const [header, row] = (await kubectlOk('get', 'podtemplates')).trimEnd().split('\n');
    assert.deepEqual(columns(header!), ['NAME', 'CONTAINERS', 'IMAGES', 'POD LABELS']);
    assert.deepEqual(columns(row!), ['pt', 'app', 'busybox:1.36', 'app=pt']);
    const bad = await apply('pt-bad', 'apiVersion: v1\nkind: PodTemplate\nmetadata:\n  name: ptbad\ntemplate:\n  spec:\n    containers:\n    - name: app\n');
    assert.match(bad.stderr, /PodTemplate "ptbad" is invalid: template.spec.containers\[0\].image: Required value/);
  });

  test('kubectl patch --subresource=status: status and labels are written, a spec change is ignored', async () => {
    await kubectlOk('run', 'statusy', '--image=busybox:1.36', '--labels=app=statusy');
    await kubectlOk('patch', 'pod', 'statusy', '--subresource=status', '--type=merge', '-p',
      JSON.stringify({ metadata: { labels: { checked: 'yes' } }, spec: { activeDeadlineSeconds: 5 }, status: { phase: 'Running' } }));
    const pod = JSON.parse(await kubectlOk('get', 'pod', 'statusy', '-o', 'json'));
    assert.equal(pod.status.phase, 'Running');
    assert.deepEqual(pod.metadata.labels, { app: 'statusy', checked: 'yes' });
    assert.equal(pod.spec.activeDeadlineSeconds, undefined);
  });
});
