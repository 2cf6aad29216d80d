import { createHash, randomInt, X509Certificate } from 'node:crypto';
import { RootletError } from '../errors.js';

/** cluster-bootstrap's BootstrapTokenPattern: a 6-character id, a dot, a 16-character secret (kube-facts 1.7). */
export const BOOTSTRAP_TOKEN_PATTERN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;

/** kubeadm's discovery-token-ca-cert-hash, as rootlet passes it: lowercase, sha256 only. */
export const CA_CERT_HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;

const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomText(length: number): string {
  // randomInt draws uniformly (rejection sampling), so no character is likelier than another.
  return Array.from({ length }, () => TOKEN_ALPHABET[randomInt(TOKEN_ALPHABET.length)]).join('');
}

/** A fresh bootstrap token for one cluster, `[a-z0-9]{6}.[a-z0-9]{16}`, not kind's well-known `abcdef.0123456789abcdef`. */
export function newBootstrapToken(): string {
  return `${randomText(6)}.${randomText(16)}`;
}

/**
 * `sha256:<hex>` of the CA certificate's DER SubjectPublicKeyInfo, as kubeadm's pubkeypin.Hash computes it for
 * `caCertHashes` (kube-facts 1.7): the public key, not the whole certificate, so a re-signed CA with the same key still matches.
 */
export function caCertHash(pemCa: string): string {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pemCa);
  } catch (error) {
    throw new RootletError('ca-cert', 'the cluster CA certificate (ca.crt) is not a PEM certificate', {
      cause: error,
      hint: 'read /etc/kubernetes/pki/ca.crt from the control-plane node after kubeadm init',
    });
  }
  const spki = certificate.publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}
