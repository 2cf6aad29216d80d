import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RootletError } from '../../src/errors.js';
import { BOOTSTRAP_TOKEN_PATTERN, CA_CERT_HASH_PATTERN, caCertHash, newBootstrapToken } from '../../src/kube/bootstrap-token.js';

describe('newBootstrapToken', () => {
  it('makes tokens of the form kubeadm accepts, all different, from the whole alphabet', () => {
    const tokens = Array.from({ length: 2000 }, () => newBootstrapToken());
    for (const token of tokens) expect(token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(new Set(tokens.map((token) => token.slice(0, 6))).size).toBeGreaterThan(1990);
    // 44,000 characters from 36: every one shows up unless the draw is skewed.
    expect(new Set(tokens.join('').replaceAll('.', '')).size).toBe(36);
  });

  it('matches the exported pattern', () => {
    expect(BOOTSTRAP_TOKEN_PATTERN.test(newBootstrapToken())).toBe(true);
    expect(BOOTSTRAP_TOKEN_PATTERN.test('abcdef.0123456789abcdeF')).toBe(false);
    expect(BOOTSTRAP_TOKEN_PATTERN.test('abcdef.0123456789abcdef\n')).toBe(false);
  });
});

describe('caCertHash', () => {
  let dir: string;
  const openssl = (args: string[]) => execa('openssl', args, { cwd: dir });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rootlet-ca-'));
    await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=kubernetes', '-keyout', 'k', '-out', 'c', '-days', '1']);
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  /** The kubeadm docs' recipe for --discovery-token-ca-cert-hash. */
  async function opensslHash(certificate: string): Promise<string> {
    const result = await execa('openssl', ['x509', '-pubkey', '-noout', '-in', certificate], { cwd: dir })
      .pipe('openssl', ['pkey', '-pubin', '-outform', 'der'], { cwd: dir })
      .pipe('sha256sum');
    return `sha256:${result.stdout.split(' ')[0]}`;
  }

  it("is the SHA-256 of the CA's SubjectPublicKeyInfo, as openssl computes it", async () => {
    const hash = caCertHash(await readFile(path.join(dir, 'c'), 'utf8'));
    expect(hash).toMatch(CA_CERT_HASH_PATTERN);
    expect(hash).toBe(await opensslHash('c'));
  });

  it('pins the key, not the certificate: a CA re-signed with the same key has the same hash', async () => {
    await openssl(['req', '-x509', '-new', '-key', 'k', '-subj', '/CN=kubernetes-renewed', '-out', 'c2', '-days', '2']);
    const [first, second] = await Promise.all(['c', 'c2'].map(async (name) => readFile(path.join(dir, name), 'utf8')));
    expect(first).not.toBe(second);
    expect(caCertHash(second!)).toBe(caCertHash(first!));
  });

  it('refuses what is not a PEM certificate', async () => {
    for (const text of ['', 'not a certificate', await readFile(path.join(dir, 'k'), 'utf8')]) {
      const error: unknown = (() => {
        try {
          return caCertHash(text);
        } catch (thrown) {
          return thrown;
        }
      })();
      expect(error).toBeInstanceOf(RootletError);
      expect((error as RootletError).code).toBe('ca-cert');
    }
  });
});
